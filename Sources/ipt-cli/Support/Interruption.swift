import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT/SIGTERM handling for long runs: the first signal asks the running procedure to stop
/// (its progress handler returns `.stop`, it writes a checkpoint and returns); the command then
/// exits with 130 (SIGINT) or 143 (SIGTERM). A second signal exits at once.
enum Interruption {
    nonisolated(unsafe) private static var received: Int32 = 0

    /// The signal received, if any.
    static var signal: Int32? { received == 0 ? nil : received }

    /// Installs the handlers (idempotent).
    static func install() {
        for sig in [SIGINT, SIGTERM] {
            Glibc.signal(sig) { number in
                if Interruption.received != 0 { _exit(128 + number) }
                Interruption.received = number
            }
        }
    }

    /// The exit status for an interrupted run.
    static var exitCode: Int32 { 128 + (received == 0 ? SIGINT : received) }
}
