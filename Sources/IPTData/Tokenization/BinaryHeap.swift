/// A binary min-heap: `pop` returns the smallest element (for BPE: the best merge).
struct BinaryHeap<Element: Comparable> {
    private var items: [Element] = []

    mutating func push(_ item: Element) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if !(item < items[parent]) { break }
            items[child] = items[parent]
            child = parent
        }
        items[child] = item
    }

    mutating func pop() -> Element? {
        guard let last = items.popLast() else { return nil }
        guard let top = items.first else { return last }
        let count = items.count
        var parent = 0
        while true {
            var child = 2 * parent + 1
            if child >= count { break }
            if child + 1 < count && items[child + 1] < items[child] { child += 1 }
            if !(items[child] < last) { break }
            items[parent] = items[child]
            parent = child
        }
        items[parent] = last
        return top
    }
}
