import Glibc

/// The command `tapline run` runs: found on `PATH` like a shell finds it, started
/// with `posix_spawn`, given the signals sent to Tapline, and waited for.
///
/// The child stays in Tapline's process group, so it remains in the terminal's
/// foreground group: it can read the terminal (a child in a group of its own would
/// be stopped by SIGTTIN), and Ctrl-C, Ctrl-\ and a hang-up reach it straight from the
/// terminal driver, as if it had been started without Tapline. Those signals come
/// from the kernel (`si_code == SI_KERNEL`) and reach Tapline too; Tapline does not
/// pass them on again (a second SIGINT makes many programs quit without cleaning
/// up). Signals a process sends to Tapline alone (`kill PID`: `SI_USER`, `SI_QUEUE`)
/// are passed on to the child. Tapline itself stops only once the child has ended.
///
/// Owned by the thread that spawns it; that thread must have blocked SIGCHLD and
/// the forwarded signals before `spawn` (`RunningProxy.blockSignals`), so none is
/// lost between the spawn and `wait`.
struct ChildProcess {
    let pid: pid_t

    /// Why the command could not be started, with the shell's exit status for it.
    enum StartFailure: Error, CustomStringConvertible {
        /// No such file, or no executable of that name on PATH: 127.
        case notFound(String)
        /// Found but not executable (permissions, a directory, a bad format): 126.
        case notExecutable(String, reason: String)

        var exitStatus: Int32 {
            switch self {
            case .notFound: return 127
            case .notExecutable: return 126
            }
        }

        var description: String {
            switch self {
            case .notFound(let command):
                return command.contains("/") ? "\(command): no such file" : "\(command): command not found (not on PATH)"
            case .notExecutable(let command, let reason):
                return "\(command): cannot run it: \(reason)"
            }
        }
    }

    /// How the child ended.
    enum Termination: Equatable {
        case exited(Int32)
        case killed(signal: Int32)

        /// The status a shell reports: the exit code, or 128 + the signal number.
        var shellStatus: Int32 {
            switch self {
            case .exited(let code): return code
            case .killed(let signal): return 128 + signal
            }
        }
    }

    /// The file `command` names: itself when it holds a `/`, else the first
    /// executable regular file of that name in `searchPath` (`PATH`; an empty entry
    /// is the working directory), as `execvp` would pick it.
    static func locate(_ command: String, searchPath: String) throws(StartFailure) -> String {
        if command.contains("/") {
            try checkExecutable(command, as: command)
            return command
        }
        var refusal: StartFailure?
        for directory in searchPath.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + command
            var info = stat()
            guard stat(candidate, &info) == 0 else { continue }
            do {
                try checkExecutable(candidate, as: command)
                return candidate
            } catch {
                refusal = refusal ?? error  // execvp goes on, and reports EACCES if nothing runs
            }
        }
        throw refusal ?? .notFound(command)
    }

    private static func checkExecutable(_ path: String, as command: String) throws(StartFailure) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .notFound(command) }
        guard info.st_mode & S_IFMT != S_IFDIR else { throw .notExecutable(command, reason: "\(path) is a directory") }
        guard access(path, X_OK) == 0 else {
            throw .notExecutable(command, reason: "\(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Starts `arguments` (`arguments[0]` is shown as the program's name; `path`
    /// is the file run) with `environment` (`NAME=value` strings), all signals
    /// unblocked and `resetSignals` back at their default action (ignored ones
    /// would otherwise stay ignored across exec). Standard input, output and error
    /// and every descriptor not marked close-on-exec are inherited.
    static func spawn(path: String, arguments: [String], environment: [String],
                      resetSignals: [Int32]) throws(StartFailure) -> ChildProcess {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in resetSignals { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        // glibc's posix_spawn reports an exec failure in the child as its result.
        let result = posix_spawn(&pid, path, nil, &attributes, argv, envp)
        guard result == 0 else {
            let command = arguments.first ?? path
            if result == ENOENT { throw .notFound(command) }
            throw .notExecutable(command, reason: String(cString: strerror(result)))
        }
        return ChildProcess(pid: pid)
    }

    /// Waits for the child to end, taking the blocked `signals` (which must hold
    /// SIGCHLD) meanwhile: each one other than SIGCHLD that a process sent to
    /// Tapline is sent on to the child; one from the terminal already reached it.
    func wait(takingSignals signals: sigset_t) -> Termination {
        var signals = signals
        while true {
            var info = siginfo_t()
            let number = sigwaitinfo(&signals, &info)
            if number < 0 { continue }  // EINTR
            if number == SIGCHLD {
                if let termination = reap() { return termination }
            } else if info.si_code != SI_KERNEL {
                kill(pid, number)
            }
        }
    }

    /// The child's termination if it has ended (a stop or continue is not one).
    private func reap() -> Termination? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return nil }
        // WIFEXITED / WIFSIGNALED, which Swift cannot import (macros).
        let signal = status & 0x7f
        if signal == 0 { return .exited((status >> 8) & 0xff) }
        if signal != 0x7f { return .killed(signal: signal) }
        return nil
    }
}
