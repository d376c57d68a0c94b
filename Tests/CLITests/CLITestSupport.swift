import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import IPTCore
import Testing

/// Checks shared by the command tests.
enum Check {
    /// A failed command: `status`, nothing on stdout, one `ipt-cli: error:` line on stderr mentioning `text`.
    static func fails(_ result: CLIResult, status: Int32, mentioning text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == status, "status \(result.status), stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, "\(result.stdout)", sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("ipt-cli: error: "), "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(text), "'\(result.stderr)' should mention '\(text)'", sourceLocation: sourceLocation)
    }

    /// A successful command.
    static func succeeds(_ result: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 0, "status \(result.status), stderr: \(result.stderr)", sourceLocation: sourceLocation)
    }

    /// A JSON object printed on stdout.
    static func json(_ result: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                     "not a JSON object: \(result.stdout)", sourceLocation: sourceLocation)
    }

    /// A JSON file as an object.
    static func jsonFile(_ url: URL, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any], sourceLocation: sourceLocation)
    }

    /// The file parses as XML and is an SVG document.
    static func wellFormedSVG(_ url: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let data = try Data(contentsOf: url)
        let parser = XMLParser(data: data)
        #expect(parser.parse(), "\(url.lastPathComponent): \(String(describing: parser.parserError))", sourceLocation: sourceLocation)
        #expect(String(decoding: data, as: UTF8.self).contains("<svg xmlns=\"http://www.w3.org/2000/svg\""), sourceLocation: sourceLocation)
    }

    /// CSV rows (the commands write no quoted fields for these inputs).
    static func csv(_ url: URL) throws -> [[String: String]] {
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        guard let header = lines.first else { return [] }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }
}
