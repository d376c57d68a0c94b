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
        _ = received  // initialised here, never for the first time inside a handler
        var signals = sigset_t()
        sigemptyset(&signals)
        for sig in [SIGINT, SIGTERM] {
            Glibc.signal(sig) { number in
                if Interruption.received != 0 { _exit(128 + number) }
                Interruption.received = number
            }
            sigaddset(&signals, sig)
        }
        // A process inherits its parent's blocked signals (Foundation's Process, some job runners
        // block them while spawning): blocked, they would stay pending and the run would never stop.
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }

    /// The exit status for an interrupted run.
    static var exitCode: Int32 { 128 + (received == 0 ? SIGINT : received) }
}
