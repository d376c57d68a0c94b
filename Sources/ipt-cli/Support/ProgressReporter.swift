import Foundation
import IPTTraining
#if canImport(Glibc)
import Glibc
#endif

/// Shows a run's progress: one rewritten status line on stderr when stderr is a terminal (step,
/// loss, dev score, steps per second, time left), every event as a JSON line in the run folder's
/// `events.jsonl`, and a stop request after SIGINT/SIGTERM. Thread-safe: a pipeline running
/// several tasks at once reports through one reporter, each line labelled with its stage's folder.
final class ProgressReporter: @unchecked Sendable {
    private let run: RunDirectory?
    private let label: String
    private let interactive = isatty(STDERR_FILENO) != 0
    private let lock = NSLock()
    /// The last dev score and best score of each label.
    private var scores: [String: (score: Double, best: Double)] = [:]
    private var lastDraw = 0.0

    init(run: RunDirectory?, label: String) {
        self.run = run
        self.label = label
        Interruption.install()
    }

    /// The handler to give a procedure.
    var handler: ProgressHandler {
        { [self] event in
            run?.append(event: event)
            lock.withLock { show(event, label: label) }
            return Interruption.signal == nil ? .proceed : .stop
        }
    }

    /// The handler to give a pipeline (which writes each stage's events.jsonl itself).
    var pipelineHandler: PipelineProgressHandler {
        { [self] folder, event in
            lock.withLock { show(event, label: "\(label) \(folder)") }
            return Interruption.signal == nil ? .proceed : .stop
        }
    }

    private func show(_ event: TrainingEvent, label: String) {
        switch event {
        case .step(let r):
            guard interactive else { return }
            let now = Date().timeIntervalSince1970
            if now - lastDraw < 0.2 && r.step != r.totalSteps { return }
            lastDraw = now
            var line = "\(label) step \(r.step)/\(r.totalSteps)  loss \(format(r.loss))"
            if let last = scores[label] { line += "  dev \(format(last.score)) (best \(format(last.best)))" }
            line += "  \(format(r.stepsPerSecond)) steps/s  \(duration(r.secondsRemaining)) left"
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        case .evaluation(let e):
            scores[label] = (e.score, e.bestScore)
            let text = "\(label) step \(e.step): dev \(format(e.score))\(e.isBest ? " (best)" : "")"
            FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + text + "\n").utf8))
        case .checkpoint:
            break
        case .phase(let name):
            FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + "\(self.label) \(name)\n").utf8))
        }
    }

    /// Ends the status line.
    func finish() {
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    private func format(_ x: Double) -> String { String(format: "%.4g", x) }

    private func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds)
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
