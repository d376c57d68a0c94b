import Foundation

/// Committed fixture files of this test target (Tests/CLITests/Fixtures).
enum Fixtures {
    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
    }
}
