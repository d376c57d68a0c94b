import ArgumentParser
import Foundation
import IPTCore

/// `ipt-cli`: the paper's procedures from the command line. Thin: flags -> library configuration
/// -> library call -> output. Exit status: 0 success, 1 bad input or failure (one line on stderr),
/// 2 bad usage, 130/143 interrupted (after saving a checkpoint).
@main
struct IPTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipt-cli",
        abstract: "Find and tune low-dimensional intrinsic task subspaces of pretrained transformers.",
        subcommands: [
            // The paper's procedures.
            PromptTuneCommand.self,
            FindSubspaceCommand.self,
            TuneSubspaceCommand.self,
            TuneSAIDCommand.self,
            FindAdapterSubspaceCommand.self,
            TuneAdapterSubspaceCommand.self,
            StageTwoCommand.self,
            // Evaluation and data.
            EvaluateCommand.self,
            ScoreCommand.self,
            TokenizeCommand.self,
            TrainTokenizerCommand.self,
            // The embedded default: corpus and tasks.
            MakeCorpusCommand.self,
            MakeTasksCommand.self,
            // The machine.
            InfoCommand.self,
        ])

    static func main() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }  // --help, --version
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
        do {
            try command.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let message = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("ipt-cli: error: \(message)\n".utf8))
            Foundation.exit(1)
        }
    }
}
