import Foundation

/// The environment variables IPTCore reads, and what is wrong with them.
///
/// The library cannot stop a process over a variable it reads while starting up (a worker count,
/// a cache size), so it falls back to the default and records the problem here; a command-line
/// tool refuses to run with ``problems`` not empty (`ipt-cli` does, naming the variable), instead
/// of running silently with settings other than the ones asked for.
public enum IPTEnvironment {
    /// One line per variable set to a value the library does not accept, naming the variable and
    /// the accepted range (`IPT_NUM_THREADS=abc: must be an integer in 1...1024; using the 2
    /// online processors`); empty when all are fine, unset or empty.
    public static var problems: [String] {
        [Parallel.environmentProblem, BufferCache.environmentProblem].compactMap { $0 }
    }

    /// An integer setting: `value` nil when unset or refused, `problem` set when refused.
    /// An empty value counts as unset (`IPT_NUM_THREADS= command`); white space around a number is
    /// ignored, and a value with control characters is quoted so that the message stays one line.
    static func integer(_ name: String, in range: ClosedRange<Int>, fallback: String) -> (value: Int?, problem: String?) {
        guard let text = ProcessInfo.processInfo.environment[name] else { return (nil, nil) }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return (nil, nil) }
        if let n = Int(trimmed), range.contains(n) { return (n, nil) }
        let shown = text.unicodeScalars.contains { CharacterSet.controlCharacters.contains($0) } ? text.debugDescription : text
        return (nil, "\(name)=\(shown): must be an integer in \(range.lowerBound)...\(range.upperBound); using \(fallback)")
    }
}
