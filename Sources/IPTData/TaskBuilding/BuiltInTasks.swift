import Foundation
import IPTCore

/// The project's own few-shot tasks, built deterministically from WordNet and fortune cookies
/// (Debian's `wordnet-base` and `fortunes*` packages), so that the paper's pipeline runs without a
/// download.
///
/// Task names start with `wn-` (WordNet) or `fortune-`. Inputs follow CrossFit's style with field
/// prefixes (`word: ... [SEP] definition: ...`); label words are single common English words;
/// classification tasks are balanced; text-to-text answers are one or a few words (half a
/// fortune for `fortune-completion`). Glosses that contain a label word (or the answer word) are
/// left out, so a task cannot be solved by copying from the input.
public enum BuiltInTasks {
    /// The unseen (test) tasks of `splits/default.json`; every other task is seen (train and dev).
    /// Related tasks sit on both sides (lexicographer-category pairs, definition-to-word,
    /// lemmatisation, fortune collections), so that transfer is plausible.
    public static let unseenTasks: [String] = [
        "wn-lex-person-location", "wn-lex-cognition-competition", "wn-lex-verb4", "wn-domain", "wn-is-part",
        "fortune-science-politics", "wn-define-verb", "wn-lemma-adjective", "wn-adverb-adjective",
        "fortune-definition-word", "wn-synonym",
    ]

    /// The generated tasks and what the pretraining corpus should leave out.
    public struct Built: Sendable {
        /// The tasks and their split, ready to write.
        public let files: TaskSetFiles
        /// Corpus lines that hold a test example's answer next to its input (definitions of the
        /// definition-to-word tests, example sentences of the fill-in-the-blank tests, fortunes of
        /// the completion and definition tests): ``PretrainingCorpus`` leaves them out so that
        /// pretraining does not memorise test answers.
        public let revealingCorpusLines: Set<String>
    }

    /// Builds every task.
    ///
    /// - Parameters:
    ///   - wordnet: the WordNet 3.0 database.
    ///   - fortunes: the fortune collections; `computers`, `food`, `love`, `sports`, `science`,
    ///     `politics`, `definitions` and `bofh-excuses` are needed.
    /// - Throws: ``TaskBuildingError`` naming the task when a source is missing or too small.
    public static func build(wordnet: WordNetDatabase, fortunes: [FortuneCollection]) throws -> Built {
        let sources = TaskSources(wordnet: wordnet, fortunes: fortunes)
        var tasks: [GeneratedTask] = []
        for pair in lexicographerTasks {
            tasks.append(try lexicographerTask(pair.name, pair.classes, sources))
        }
        for make in [partOfSpeechTask, domainTask, isKindOfTask, isPartOfTask, oppositeOrSimilarTask, synonymTask,
                     defineNounTask, defineVerbTask, hypernymTask, antonymTask, lemmaVerbTask, lemmaNounTask,
                     lemmaAdjectiveTask, fillInTheBlankTask, pertainymTask, adverbToAdjectiveTask,
                     fortuneTopicTask, fortuneSciencePoliticsTask, fortuneOrExcuseTask, fortuneCompletionTask,
                     fortuneDefinitionTask] {
            tasks.append(try make(sources))
        }
        let names = Set(tasks.map(\.description.name))
        let unseen = unseenTasks.filter(names.contains)
        let seen = tasks.map(\.description.name).filter { !unseenTasks.contains($0) }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let files = TaskSetFiles(tasks: tasks, trainTasks: seen, testTasks: unseen)
        return Built(files: files, revealingCorpusLines: tasks.reduce(into: Set()) { $0.formUnion($1.revealingCorpusLines) })
    }

    // MARK: - WordNet classification

    /// Gloss to lexicographer category: `(task name, [(lexicographer file, label word)])`.
    static let lexicographerTasks: [(name: String, classes: [(file: String, label: String)])] = [
        ("wn-lex-animal-plant", [("noun.animal", "animal"), ("noun.plant", "plant")]),
        ("wn-lex-food-artifact", [("noun.food", "food"), ("noun.artifact", "artifact")]),
        ("wn-lex-person-location", [("noun.person", "person"), ("noun.location", "place")]),
        ("wn-lex-body-substance", [("noun.body", "body"), ("noun.substance", "substance")]),
        ("wn-lex-feeling-time", [("noun.feeling", "feeling"), ("noun.time", "time")]),
        ("wn-lex-motion-communication", [("verb.motion", "motion"), ("verb.communication", "communication")]),
        ("wn-lex-consumption-creation", [("verb.consumption", "eating"), ("verb.creation", "making")]),
        ("wn-lex-cognition-competition", [("verb.cognition", "thinking"), ("verb.competition", "fighting")]),
        ("wn-lex-adjective-kind", [("adj.all", "descriptive"), ("adj.pert", "relational")]),
        ("wn-lex-noun4", [("noun.act", "action"), ("noun.event", "event"), ("noun.group", "group"),
                          ("noun.quantity", "quantity")]),
        ("wn-lex-verb4", [("verb.body", "body"), ("verb.change", "change"), ("verb.perception", "perception"),
                          ("verb.possession", "possession")]),
    ]

    static func lexicographerTask(_ name: String, _ classes: [(file: String, label: String)],
                                  _ sources: TaskSources) throws -> GeneratedTask {
        let labels = classes.map(\.label)
        var labelOfFile: [Int: String] = [:]
        for entry in classes {
            guard let number = WordNetLexicographerFile.number(of: entry.file) else {
                preconditionFailure("unknown lexicographer file \(entry.file)")
            }
            labelOfFile[number] = entry.label
        }
        let pool = sources.wordnet.synsets.compactMap { synset -> TaskCandidate? in
            guard let label = labelOfFile[synset.lexicographerFile], !synset.definition.isEmpty else { return nil }
            let word = synset.headword.text
            guard !TaskSources.mentions("\(word) \(synset.definition)", anyOf: labels) else { return nil }
            return TaskCandidate(input: "word: \(word) [SEP] definition: \(synset.definition)", answer: label)
        }
        let fileList = classes.map { "`\($0.file)` → \($0.label)" }.joined(separator: ", ")
        return try FewShotSampling.sample(
            classification(name, labels: labels, metric: labels.count == 2 ? "ACC" : "Classification-F1",
                           summary: "the WordNet lexicographer category of a synset from its headword and definition (\(fileList)); glosses mentioning a label word are left out.",
                           inputFormat: "word: <headword> [SEP] definition: <definition>"),
            pool: pool)
    }

    static func partOfSpeechTask(_ sources: TaskSources) throws -> GeneratedTask {
        var categoriesOfLemma: [String: [WordNetPartOfSpeech]] = [:]
        for category in WordNetPartOfSpeech.allCases {
            for entry in sources.wordnet.index[category] ?? [] { categoriesOfLemma[entry.lemma, default: []].append(category) }
        }
        let pool = WordNetPartOfSpeech.allCases.flatMap { category in
            (sources.wordnet.index[category] ?? []).compactMap { entry -> TaskCandidate? in
                guard entry.taggedSenseCount > 0, TaskSources.isPlainWord(entry.lemma),
                      categoriesOfLemma[entry.lemma]?.count == 1 else { return nil }
                return TaskCandidate(input: "word: \(entry.lemma)", answer: category.rawValue)
            }
        }
        return try FewShotSampling.sample(
            classification("wn-pos", labels: WordNetPartOfSpeech.allCases.map(\.rawValue), metric: "Classification-F1",
                           summary: "the part of speech of a common English word (one with senses tagged in WordNet's concordances) that WordNet lists under one part of speech only.",
                           inputFormat: "word: <word>"),
            pool: pool)
    }

    static func domainTask(_ sources: TaskSources) throws -> GeneratedTask {
        let labels = ["chemistry", "law", "military", "music"]
        let pool = sources.wordnet.synsets.compactMap { synset -> TaskCandidate? in
            let domains = Set(synset.targets(of: WordNetPointer.topicDomain).compactMap { target in
                sources.wordnet.synset(target)?.words.map(\.lemma).first(where: labels.contains)
            })
            guard domains.count == 1, let label = domains.first, !synset.definition.isEmpty else { return nil }
            let word = synset.headword.text
            guard !TaskSources.mentions("\(word) \(synset.definition)", anyOf: labels) else { return nil }
            return TaskCandidate(input: "word: \(word) [SEP] definition: \(synset.definition)", answer: label)
        }
        return try FewShotSampling.sample(
            classification("wn-domain", labels: labels, metric: "Classification-F1",
                           summary: "the topic domain of a synset (its WordNet `;c` pointer to chemistry, law, military or music) from its headword and definition; glosses mentioning a label word are left out.",
                           inputFormat: "word: <headword> [SEP] definition: <definition>"),
            pool: pool)
    }

    static func isKindOfTask(_ sources: TaskSources) throws -> GeneratedTask {
        let wordnet = sources.wordnet
        // Common-word hypernyms one or two steps up, of depth >= 4 below the root, so that vague
        // answers such as `entity` or `object` never occur.
        func candidates(of id: WordNetSynsetID) -> [WordNetSynsetID] {
            var frontier = [id], found: [WordNetSynsetID] = []
            for _ in 0..<2 {
                frontier = frontier.flatMap { wordnet.synset($0)?.targets(of: WordNetPointer.hypernym) ?? [] }
                found += frontier
            }
            return found.filter { sources.depth(of: $0) >= 4 && sources.isCommon(wordnet.synset($0)!.headword.lemma, .noun) }
        }
        let subjects = sources.firstSenses(.noun).filter { !candidates(of: $0.synset).isEmpty }
        let categories = Set(subjects.flatMap { candidates(of: $0.synset) }).sorted()
        var generator = RandomGenerator(seed: FewShotSampling.poolSeed).derived("items/wn-is-a")
        let pool = subjects.compactMap { subject -> TaskCandidate? in
            let ancestors = sources.ancestors(of: subject.synset)
            let positive = generator.nextInt(below: 2) == 0
            let category: WordNetSynsetID
            if positive {
                let choices = candidates(of: subject.synset)
                category = choices[generator.nextInt(below: choices.count)]
            } else {
                category = categories[generator.nextInt(below: categories.count)]
                guard !ancestors.contains(category), category != subject.synset else { return nil }
            }
            let categoryWord = wordnet.synset(category)!.headword.lemma
            guard categoryWord != subject.word else { return nil }
            return TaskCandidate(input: "question: is \(TaskSources.article(subject.word)) \(subject.word) a kind of \(categoryWord)?",
                            answer: positive ? "yes" : "no")
        }
        return try FewShotSampling.sample(
            classification("wn-is-a", labels: ["no", "yes"], metric: "ACC",
                           summary: "whether a common noun (its first sense) is a kind of a category: yes for a common-word hypernym 1 or 2 steps up its WordNet hierarchy, no for a category outside its hypernym chain.",
                           inputFormat: "question: is a <word> a kind of <category>?"),
            pool: pool)
    }

    static func isPartOfTask(_ sources: TaskSources) throws -> GeneratedTask {
        let wordnet = sources.wordnet
        var pairs: [(part: String, whole: String, parts: Set<String>)] = []
        for whole in wordnet.synsets where whole.id.partOfSpeech == .noun && sources.isCommon(whole.headword.lemma, .noun) {
            let parts = whole.targets(of: WordNetPointer.partMeronym).compactMap { wordnet.synset($0)?.headword.lemma }
                .filter { sources.isCommon($0, .noun) }
            for part in parts where part != whole.headword.lemma {
                pairs.append((part, whole.headword.lemma, Set(parts)))
            }
        }
        let wholes = Array(Set(pairs.map(\.whole))).sorted()
        var partsOfWhole: [String: Set<String>] = [:]
        for pair in pairs { partsOfWhole[pair.whole, default: []].formUnion(pair.parts) }
        var generator = RandomGenerator(seed: FewShotSampling.poolSeed).derived("items/wn-is-part")
        let pool = pairs.compactMap { pair -> TaskCandidate? in
            let positive = generator.nextInt(below: 2) == 0
            let whole = positive ? pair.whole : wholes[generator.nextInt(below: wholes.count)]
            guard positive || (!(partsOfWhole[whole]?.contains(pair.part) ?? false) && whole != pair.part) else { return nil }
            return TaskCandidate(input: "question: is \(TaskSources.article(pair.part)) \(pair.part) a part of \(TaskSources.article(whole)) \(whole)?",
                            answer: positive ? "yes" : "no")
        }
        return try FewShotSampling.sample(
            classification("wn-is-part", labels: ["no", "yes"], metric: "ACC",
                           summary: "whether a thing is a part of another (both common nouns): yes for WordNet part meronyms (`%p`), no for the part paired with a random whole that does not list it.",
                           inputFormat: "question: is a <part> a part of a <whole>?"),
            pool: pool)
    }

    static func oppositeOrSimilarTask(_ sources: TaskSources) throws -> GeneratedTask {
        let wordnet = sources.wordnet
        var pool: [TaskCandidate?] = []
        for synset in wordnet.synsets where synset.id.partOfSpeech == .adjective {
            for pointer in synset.pointers {
                guard let target = wordnet.synset(pointer.target) else { continue }
                if pointer.symbol == WordNetPointer.antonym, pointer.sourceWord > 0, pointer.targetWord > 0,
                   pointer.sourceWord <= synset.words.count, pointer.targetWord <= target.words.count,
                   synset.id < target.id {
                    pool.append(pairItem(synset.words[pointer.sourceWord - 1].lemma, target.words[pointer.targetWord - 1].lemma, "opposite"))
                } else if pointer.symbol == WordNetPointer.similarTo, synset.isSatellite {
                    pool.append(pairItem(target.headword.lemma, synset.headword.lemma, "similar"))
                }
            }
        }
        return try FewShotSampling.sample(
            classification("wn-opposite-similar", labels: ["opposite", "similar"], metric: "ACC",
                           summary: "whether two adjectives are opposites (WordNet antonyms `!`) or similar (a head adjective and a satellite of its cluster, `&`).",
                           inputFormat: "word 1: <adjective> [SEP] word 2: <adjective>"),
            pool: pool.compactMap { $0 })
    }

    static func synonymTask(_ sources: TaskSources) throws -> GeneratedTask {
        let wordnet = sources.wordnet
        var synsetsOfWord: [String: Set<WordNetSynsetID>] = [:]
        var plainWords: [(id: WordNetSynsetID, words: [String])] = []
        for synset in wordnet.synsets {
            var seen = Set<String>()
            let words = synset.words.map(\.lemma).filter { TaskSources.isPlainWord($0) && seen.insert($0).inserted }
            for word in words { synsetsOfWord[word, default: []].insert(synset.id) }
            if !words.isEmpty { plainWords.append((synset.id, words)) }
        }
        var generator = RandomGenerator(seed: FewShotSampling.poolSeed).derived("items/wn-synonym")
        let pool = plainWords.filter { $0.words.count >= 2 }.compactMap { entry -> TaskCandidate? in
            let first = entry.words[0]
            if generator.nextInt(below: 2) == 0 { return pairItem(first, entry.words[1], "synonym") }
            let other = plainWords[generator.nextInt(below: plainWords.count)].words[0]
            guard synsetsOfWord[first]!.isDisjoint(with: synsetsOfWord[other]!) else { return nil }
            return pairItem(first, other, "unrelated")
        }
        return try FewShotSampling.sample(
            classification("wn-synonym", labels: ["synonym", "unrelated"], metric: "ACC",
                           summary: "whether two words are synonyms (two words of one WordNet synset) or unrelated (a word paired with a random word that shares no synset with it).",
                           inputFormat: "word 1: <word> [SEP] word 2: <word>"),
            pool: pool)
    }

    private static func pairItem(_ first: String, _ second: String, _ label: String) -> TaskCandidate? {
        guard TaskSources.isPlainWord(first), TaskSources.isPlainWord(second), first != second else { return nil }
        return TaskCandidate(input: "word 1: \(first) [SEP] word 2: \(second)", answer: label)
    }

    // MARK: - WordNet generation

    static func defineNounTask(_ sources: TaskSources) throws -> GeneratedTask { try defineTask(.noun, sources) }
    static func defineVerbTask(_ sources: TaskSources) throws -> GeneratedTask { try defineTask(.verb, sources) }

    static func defineTask(_ category: WordNetPartOfSpeech, _ sources: TaskSources) throws -> GeneratedTask {
        let pool = sources.wordnet.synsets.compactMap { synset -> TaskCandidate? in
            let word = synset.headword.lemma
            guard synset.id.partOfSpeech == category, sources.isCommon(word, category), !synset.definition.isEmpty,
                  !TaskSources.mentions(synset.definition, anyOf: [word]) else { return nil }
            return TaskCandidate(input: "definition: \(synset.definition)", answer: word,
                            revealing: [PretrainingCorpus.definitionLine(synset)].compactMap { $0 })
        }
        return try FewShotSampling.sample(
            textToText("wn-define-\(category.rawValue)", metric: "EM",
                       summary: "the headword of a WordNet \(category.rawValue) synset from its definition; common single-word headwords only, definitions that contain the word are left out.",
                       inputFormat: "definition: <definition>"),
            pool: pool)
    }

    static func hypernymTask(_ sources: TaskSources) throws -> GeneratedTask {
        let pool = sources.firstSenses(.noun).compactMap { subject -> TaskCandidate? in
            guard let parent = sources.wordnet.synset(subject.synset)?.targets(of: WordNetPointer.hypernym).first,
                  let word = sources.wordnet.synset(parent)?.headword.lemma, TaskSources.isPlainWord(word) else { return nil }
            return TaskCandidate(input: "word: \(subject.word)", answer: word)
        }
        return try FewShotSampling.sample(
            textToText("wn-hypernym", metric: "EM",
                       summary: "the direct hypernym (more general word) of a common noun's first WordNet sense, when that is a single word.",
                       inputFormat: "word: <noun>"),
            pool: pool)
    }

    static func antonymTask(_ sources: TaskSources) throws -> GeneratedTask {
        let wordnet = sources.wordnet
        var pool: [TaskCandidate] = []
        for synset in wordnet.synsets where synset.id.partOfSpeech == .adjective {
            for pointer in synset.pointers where pointer.symbol == WordNetPointer.antonym && pointer.sourceWord > 0 {
                guard let target = wordnet.synset(pointer.target), pointer.sourceWord <= synset.words.count,
                      pointer.targetWord > 0, pointer.targetWord <= target.words.count else { continue }
                let word = synset.words[pointer.sourceWord - 1].lemma, opposite = target.words[pointer.targetWord - 1].lemma
                guard TaskSources.isPlainWord(word), TaskSources.isPlainWord(opposite) else { continue }
                if let item = TaskCandidate(input: "adjective: \(word)", answer: opposite) { pool.append(item) }
            }
        }
        return try FewShotSampling.sample(
            textToText("wn-antonym", metric: "EM",
                       summary: "the antonym of an adjective (WordNet's direct antonyms `!`); adjectives with different antonyms in different senses are left out.",
                       inputFormat: "adjective: <adjective>"),
            pool: pool)
    }

    static func lemmaVerbTask(_ sources: TaskSources) throws -> GeneratedTask { try lemmaTask(.verb, "an irregular verb form (past tense, participle)", sources) }
    static func lemmaNounTask(_ sources: TaskSources) throws -> GeneratedTask { try lemmaTask(.noun, "an irregular noun plural", sources) }
    static func lemmaAdjectiveTask(_ sources: TaskSources) throws -> GeneratedTask {
        try lemmaTask(.adjective, "an irregular comparative or superlative adjective", sources)
    }

    static func lemmaTask(_ category: WordNetPartOfSpeech, _ what: String, _ sources: TaskSources) throws -> GeneratedTask {
        let pool = (sources.wordnet.exceptions[category] ?? []).compactMap { exception -> TaskCandidate? in
            guard exception.baseForms.count == 1, let base = exception.baseForms.first,
                  TaskSources.isPlainWord(exception.inflectedForm), sources.isIndexed(base, category),
                  base != exception.inflectedForm else { return nil }
            return TaskCandidate(input: "word: \(exception.inflectedForm)", answer: base)
        }
        return try FewShotSampling.sample(
            textToText("wn-lemma-\(category.rawValue)", metric: "EM",
                       summary: "the base form of \(what), from WordNet's `\(category.fileSuffix).exc` exception list (entries with one base form that WordNet lists as a \(category.rawValue)).",
                       inputFormat: "word: <inflected form>"),
            pool: pool)
    }

    static func fillInTheBlankTask(_ sources: TaskSources) throws -> GeneratedTask {
        // Shorter examples (`___ responsible`) are phrases that leave the word unguessable.
        let minimumWords = 5
        let pool = sources.wordnet.synsets.flatMap { synset -> [TaskCandidate] in
            let word = synset.headword.lemma
            guard sources.isCommon(word, synset.id.partOfSpeech) else { return [] }
            return PretrainingCorpus.exampleLines(synset).compactMap { sentence in
                var tokens = sentence.split(separator: " ").map(String.init)
                let matches = tokens.indices.filter { TaskSources.core(of: tokens[$0]).lowercased() == word }
                guard tokens.count >= minimumWords, matches.count == 1, let position = matches.first else { return nil }
                let core = TaskSources.core(of: tokens[position])
                tokens[position] = tokens[position].replacingOccurrences(of: core, with: "___")
                return TaskCandidate(input: "sentence: \(tokens.joined(separator: " "))", answer: word, revealing: [sentence])
            }
        }
        return try FewShotSampling.sample(
            textToText("wn-blank", metric: "EM",
                       summary: "the word blanked out (`___`) in a WordNet example sentence of at least \(minimumWords) words, where the word is the headword of the synset the example illustrates (common single-word headwords, exact form only).",
                       inputFormat: "sentence: <sentence with ___>"),
            pool: pool)
    }

    static func pertainymTask(_ sources: TaskSources) throws -> GeneratedTask {
        try derivedWordTask("wn-pertainym", from: .adjective, to: .noun, inputField: "adjective", sources,
                            summary: "the noun a relational adjective pertains to (WordNet pertainym pointers `\\` from `adj.pert`), such as musical → music.")
    }

    static func adverbToAdjectiveTask(_ sources: TaskSources) throws -> GeneratedTask {
        try derivedWordTask("wn-adverb-adjective", from: .adverb, to: .adjective, inputField: "adverb", sources,
                            summary: "the adjective an adverb is derived from (WordNet pertainym pointers `\\` of adverbs), such as quickly → quick.")
    }

    static func derivedWordTask(_ name: String, from source: WordNetPartOfSpeech, to target: WordNetPartOfSpeech,
                                inputField: String, _ sources: TaskSources, summary: String) throws -> GeneratedTask {
        let wordnet = sources.wordnet
        var pool: [TaskCandidate] = []
        for synset in wordnet.synsets where synset.id.partOfSpeech == source {
            for pointer in synset.pointers where pointer.symbol == WordNetPointer.pertainym && pointer.target.partOfSpeech == target {
                guard let other = wordnet.synset(pointer.target), pointer.sourceWord > 0, pointer.sourceWord <= synset.words.count,
                      pointer.targetWord > 0, pointer.targetWord <= other.words.count else { continue }
                let word = synset.words[pointer.sourceWord - 1].lemma, base = other.words[pointer.targetWord - 1].lemma
                guard TaskSources.isPlainWord(word), TaskSources.isPlainWord(base), word != base else { continue }
                if let item = TaskCandidate(input: "\(inputField): \(word)", answer: base) { pool.append(item) }
            }
        }
        return try FewShotSampling.sample(
            textToText(name, metric: "EM", summary: summary, inputFormat: "\(inputField): <\(inputField)>"), pool: pool)
    }

    // MARK: - Fortunes

    static func fortuneTopicTask(_ sources: TaskSources) throws -> GeneratedTask {
        try fortuneCollectionTask("fortune-topic", collections: ["computers", "food", "love", "sports"], sources)
    }

    static func fortuneSciencePoliticsTask(_ sources: TaskSources) throws -> GeneratedTask {
        try fortuneCollectionTask("fortune-science-politics", collections: ["politics", "science"], sources)
    }

    static func fortuneCollectionTask(_ name: String, collections: [String], _ sources: TaskSources) throws -> GeneratedTask {
        let pool = try collections.flatMap { collection in
            try sources.proseEntries(of: collection, task: name).compactMap {
                TaskCandidate(input: "fortune: \($0.paragraph)", answer: collection)
            }
        }
        return try FewShotSampling.sample(
            classification(name, labels: collections, metric: collections.count == 2 ? "ACC" : "Classification-F1",
                           summary: "the fortune collection (\(collections.joined(separator: ", "))) a fortune cookie comes from, without its attribution; cookies of up to \(FewShotSampling.maximumInputWords) words.",
                           inputFormat: "fortune: <text>"),
            pool: pool)
    }

    static func fortuneOrExcuseTask(_ sources: TaskSources) throws -> GeneratedTask {
        let name = "fortune-or-excuse"
        let lengths = 3...12
        let excuses = try sources.proseEntries(of: "bofh-excuses", task: name).compactMap { entry -> TaskCandidate? in
            // Each excuse starts with a `BOFH excuse #N:` title line, which would give the answer away.
            let lines = entry.text.split(separator: "\n", omittingEmptySubsequences: false)
            let body = SourceText.collapsingWhitespace((lines.first?.hasPrefix("BOFH excuse #") == true ? lines.dropFirst() : lines[...])
                .joined(separator: " "))
            guard lengths.contains(body.split(separator: " ").count) else { return nil }
            return TaskCandidate(input: "text: \(body)", answer: "excuse")
        }
        let quotes = sources.fortunes.filter { $0.name != "bofh-excuses" }.flatMap { collection in
            collection.entries.compactMap { entry -> TaskCandidate? in
                let paragraph = entry.paragraph
                guard PretrainingCorpus.isProse(paragraph), lengths.contains(paragraph.split(separator: " ").count) else { return nil }
                return TaskCandidate(input: "text: \(paragraph)", answer: "fortune")
            }
        }
        return try FewShotSampling.sample(
            classification(name, labels: ["excuse", "fortune"], metric: "ACC",
                           summary: "whether a short text (\(lengths.lowerBound) to \(lengths.upperBound) words) is a BOFH excuse (`fortunes-bofh-excuses`, title line removed) or a fortune cookie from the other collections.",
                           inputFormat: "text: <text>"),
            pool: excuses + quotes)
    }

    static func fortuneCompletionTask(_ sources: TaskSources) throws -> GeneratedTask {
        let lengths = 8...24
        let pool = sources.fortunes.filter { $0.name != "bofh-excuses" }.flatMap { collection in
            collection.entries.compactMap { entry -> TaskCandidate? in
                let words = entry.paragraph.split(separator: " ")
                guard lengths.contains(words.count), PretrainingCorpus.isProse(entry.paragraph) else { return nil }
                return TaskCandidate(input: "fortune beginning: \(words.prefix(words.count / 2).joined(separator: " "))",
                                answer: words.dropFirst(words.count / 2).joined(separator: " "),
                                revealing: [PretrainingCorpus.fortuneLine(entry)].compactMap { $0 })
            }
        }
        return try FewShotSampling.sample(
            textToText("fortune-completion", metric: "Rouge-L",
                       summary: "the second half (by words) of a short fortune cookie (\(lengths.lowerBound) to \(lengths.upperBound) words, attribution removed) from its first half.",
                       inputFormat: "fortune beginning: <first half>"),
            pool: pool)
    }

    static func fortuneDefinitionTask(_ sources: TaskSources) throws -> GeneratedTask {
        let name = "fortune-definition-word"
        let candidates = try sources.proseEntries(of: "definitions", task: name).compactMap { entry -> TaskCandidate? in
            // Entries of the form `Word, n.:` (or `Word:`) on the first line, the definition below.
            let lines = entry.text.split(separator: "\n")
            guard lines.count >= 2, let title = lines.first.map({ $0.trimmingCharacters(in: .whitespaces) }),
                  title.hasSuffix(":") else { return nil }
            let word = String(title.dropLast().split(separator: ",").first ?? "").trimmingCharacters(in: .whitespaces)
            guard !word.isEmpty, word.count <= 20, word.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "-" || $0 == "'") }),
                  word.first!.isLetter else { return nil }
            let definition = SourceText.collapsingWhitespace(lines.dropFirst().joined(separator: " "))
            guard !TaskSources.mentions(definition, anyOf: [word.lowercased()]) else { return nil }
            return TaskCandidate(input: "definition: \(definition)", answer: word,
                            revealing: [PretrainingCorpus.fortuneLine(entry)].compactMap { $0 })
        }
        // A title shared by many entries is a heading (`QOTD:`, quote of the day), not a defined word.
        var titleCounts: [String: Int] = [:]
        for item in candidates { titleCounts[item.line.answer, default: 0] += 1 }
        let pool = candidates.filter { titleCounts[$0.line.answer]! <= 3 }
        return try FewShotSampling.sample(
            textToText(name, metric: "EM",
                       summary: "the word defined by a humorous definition of the `definitions` fortune collection (entries titled `Word, n.:` or `Word:`; titles used more than 3 times, such as `QOTD`, are headings and left out), attribution removed; definitions containing the word are left out.",
                       inputFormat: "definition: <humorous definition>"),
            pool: pool)
    }

    // MARK: - Descriptions

    private static func classification(_ name: String, labels: [String], metric: String, summary: String,
                                       inputFormat: String) -> TaskDescription {
        TaskDescription(name: name, kind: .classification, metric: metric,
                        options: labels,
                        summary: "Classification: \(summary)", inputFormat: inputFormat)
    }

    private static func textToText(_ name: String, metric: String, summary: String, inputFormat: String) -> TaskDescription {
        TaskDescription(name: name, kind: .textToText, metric: metric, options: [],
                        summary: "Generation: \(summary)", inputFormat: inputFormat)
    }
}

/// The sources of the built-in tasks and lookups shared by several tasks.
struct TaskSources {
    let wordnet: WordNetDatabase
    let fortunes: [FortuneCollection]
    /// Lemmas with at least one sense tagged in WordNet's semantic concordances, per category.
    private let commonLemmas: [WordNetPartOfSpeech: Set<String>]
    /// Every lemma of the index files, per category.
    private let indexedLemmas: [WordNetPartOfSpeech: Set<String>]
    private let depths: [WordNetSynsetID: Int]

    init(wordnet: WordNetDatabase, fortunes: [FortuneCollection]) {
        self.wordnet = wordnet
        self.fortunes = fortunes.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        var common: [WordNetPartOfSpeech: Set<String>] = [:], indexed: [WordNetPartOfSpeech: Set<String>] = [:]
        for (category, entries) in wordnet.index {
            common[category] = Set(entries.filter { $0.taggedSenseCount > 0 }.map(\.lemma))
            indexed[category] = Set(entries.map(\.lemma))
        }
        commonLemmas = common
        indexedLemmas = indexed
        // Depth below a root of the noun hierarchy, along the shortest hypernym path.
        var depths: [WordNetSynsetID: Int] = [:]
        func depth(_ id: WordNetSynsetID, _ visiting: inout Set<WordNetSynsetID>) -> Int {
            if let known = depths[id] { return known }
            guard visiting.insert(id).inserted, let synset = wordnet.synset(id) else { return 0 }
            let parents = synset.targets(of: WordNetPointer.hypernym) + synset.targets(of: WordNetPointer.instanceHypernym)
            let value = parents.map { depth($0, &visiting) + 1 }.min() ?? 0
            visiting.remove(id)
            depths[id] = value
            return value
        }
        var visiting = Set<WordNetSynsetID>()
        for synset in wordnet.synsets where synset.id.partOfSpeech == .noun { _ = depth(synset.id, &visiting) }
        self.depths = depths
    }

    /// Whether `lemma` is a common word of `category` (tagged in the concordances) and a plain word.
    func isCommon(_ lemma: String, _ category: WordNetPartOfSpeech) -> Bool {
        Self.isPlainWord(lemma) && commonLemmas[category]?.contains(lemma) == true
    }

    /// Whether `lemma` is a plain word that the index of `category` lists.
    func isIndexed(_ lemma: String, _ category: WordNetPartOfSpeech) -> Bool {
        Self.isPlainWord(lemma) && indexedLemmas[category]?.contains(lemma) == true
    }

    /// Steps from the noun hierarchy's root.
    func depth(of id: WordNetSynsetID) -> Int { depths[id] ?? 0 }

    /// Every synset above `id` along hypernym and instance-hypernym pointers.
    func ancestors(of id: WordNetSynsetID) -> Set<WordNetSynsetID> {
        var found = Set<WordNetSynsetID>(), frontier = [id]
        while let next = frontier.popLast() {
            guard let synset = wordnet.synset(next) else { continue }
            for parent in synset.targets(of: WordNetPointer.hypernym) + synset.targets(of: WordNetPointer.instanceHypernym)
            where found.insert(parent).inserted {
                frontier.append(parent)
            }
        }
        return found
    }

    /// Common plain words of `category` with their first (most frequent) sense, in index order.
    func firstSenses(_ category: WordNetPartOfSpeech) -> [(word: String, synset: WordNetSynsetID)] {
        (wordnet.index[category] ?? []).compactMap { entry in
            guard entry.taggedSenseCount > 0, Self.isPlainWord(entry.lemma), let first = entry.synsetOffsets.first else { return nil }
            return (entry.lemma, WordNetSynsetID(category, first))
        }
    }

    /// The prose entries of a fortune collection (see ``PretrainingCorpus/isProse(_:)``).
    ///
    /// - Throws: ``TaskBuildingError`` naming `task` when the collection is absent.
    func proseEntries(of collection: String, task: String) throws -> [FortuneEntry] {
        guard let found = fortunes.first(where: { $0.name == collection }) else {
            throw TaskBuildingError(task: task, problem: "needs the fortune collection '\(collection)', which is absent")
        }
        return found.entries.filter { PretrainingCorpus.isProse($0.paragraph) }
    }

    /// Two to twenty lower-case ASCII letters.
    static func isPlainWord(_ word: String) -> Bool {
        (2...20).contains(word.utf8.count) && word.utf8.allSatisfy { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }
    }

    /// Whether any word of `text` starts with one of `stems` (lower-case ASCII): words are split at
    /// every character other than an ASCII letter or a non-ASCII character, and ASCII letters are
    /// compared case-insensitively.
    static func mentions(_ text: String, anyOf stems: [String]) -> Bool {
        let stems = stems.map { Array($0.utf8) }
        var word: [UInt8] = []
        func matches() -> Bool { stems.contains { word.starts(with: $0) } }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), 0x80...: word.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): word.append(byte + 32)
            default:
                if matches() { return true }
                word.removeAll(keepingCapacity: true)
            }
        }
        return matches()
    }

    /// `a` or `an` before `word`, by its first letter.
    static func article(_ word: String) -> String {
        "aeiou".contains(word.first ?? "x") ? "an" : "a"
    }

    /// A token without the punctuation around it (`dog,` → `dog`).
    static func core(of token: String) -> String {
        String(token.drop(while: { !$0.isLetter }).reversed().drop(while: { !$0.isLetter }).reversed())
    }
}
