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
            DemoCommand.self,
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
            EmbedCommand.self,
            // Reports and artifacts.
            ReportCommand.self,
            InspectCommand.self,
            ExportPEFTCommand.self,
            ImportPEFTCommand.self,
            // The embedded default: tokenizer, corpus, tasks.
            TrainTokenizerCommand.self,
            MakeCorpusCommand.self,
            MakeTasksCommand.self,
            PretrainCommand.self,
            // The machine.
            InfoCommand.self,
        ])

    static func main() {
        // Past a file-size limit (ulimit -f) a write then fails with EFBIG and is reported as an
        // error naming the file, instead of SIGXFSZ killing the process with a core dump.
        signal(SIGXFSZ, SIG_IGN)
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }  // --help, --version
            // One line: the problem and where the help is (ArgumentParser's message adds usage lines).
            let lines = fullMessage(for: error).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            let problem = lines.first.map { $0.hasPrefix("Error: ") ? String($0.dropFirst(7)) : $0 } ?? "invalid usage"
            let help = lines.first { $0.hasPrefix("See '") }.flatMap { line -> String? in
                let quoted = line.split(separator: "'", omittingEmptySubsequences: false)
                return quoted.count >= 2 ? " (see '\(quoted[1])')" : nil
            } ?? ""
            usageError(problem + help)
        }
        // A BLAS library asked for by name that cannot serve is an error, not a silent slowdown
        // (`info` still runs: its JSON shows the reason).
        if ProcessInfo.processInfo.environment["IPT_BLAS_LIBRARY"] != nil, !(command is InfoCommand),
           let warning = BLAS.info.warning {
            FileHandle.standardError.write(Data("ipt-cli: error: \(warning)\n".utf8))
            Foundation.exit(1)
        }
        // So is a worker count or cache size the library had to ignore.
        if !(command is InfoCommand), let problem = IPTEnvironment.problems.first {
            FileHandle.standardError.write(Data("ipt-cli: error: \(problem)\n".utf8))
            Foundation.exit(1)
        }
        do {
            try command.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch let error as ValidationError {
            // A flag value found wrong only when the command runs is still bad usage.
            let name = type(of: command).configuration.commandName ?? "ipt-cli"
            usageError("\(error.message) (see 'ipt-cli \(name) --help')")
        } catch where exitCode(for: error) == .success {
            // `--help` and `help` parse to ArgumentParser's help command, whose run() throws the help request.
            exit(withError: error)
        } catch {
            let message = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("ipt-cli: error: \(message)\n".utf8))
            Foundation.exit(1)
        }
    }

    /// Exit status 2 with one line on stderr.
    static func usageError(_ message: String) -> Never {
        FileHandle.standardError.write(Data("ipt-cli: error: \(message)\n".utf8))
        Foundation.exit(2)
    }
}
