import Foundation

/// A program started by the demo (or a test), whose output lines are echoed with a label and kept for reading.
package final class ChildProcess: @unchecked Sendable {
    package let label: String
    private let process = Process()
    private let lock = NSLock()
    private var collectedLines: [String] = []
    private var lineWaiters: [(predicate: (String) -> Bool, continuation: CheckedContinuation<String?, Never>)] = []
    private var isOutputClosed = false
    private let outputFinished = DispatchGroup()
    private let exited = DispatchGroup()
    private let echo: Bool
    /// The program's standard input, when it takes any (``send(_:)``).
    private let input: Pipe?

    /// - Parameters:
    ///   - echo: print each output line as `[label] line` on standard output.
    ///   - takesInput: give the program a standard input that ``send(_:)`` writes to (else it reads nothing).
    package init(
        label: String, executable: URL, arguments: [String], environment: [String: String]? = nil, echo: Bool = true,
        takesInput: Bool = false
    ) {
        self.label = label
        self.echo = echo
        input = takesInput ? Pipe() : nil
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
    }

    /// Starts the program, reading its standard output and standard error line by line.
    package func start() throws {
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input ?? FileHandle.nullDevice
        outputFinished.enter()
        outputFinished.enter()
        exited.enter()
        process.terminationHandler = { [exited] _ in exited.leave() }
        do {
            try process.run()
        } catch {
            // Never started: nothing to wait for.
            outputFinished.leave()
            outputFinished.leave()
            exited.leave()
            process.terminationHandler = nil
            throw error
        }
        read(output.fileHandleForReading)
        read(errors.fileHandleForReading)
        outputFinished.notify(queue: .global()) { [self] in
            let waiters = lock.withLock {
                isOutputClosed = true
                defer { lineWaiters.removeAll() }
                return lineWaiters
            }
            for waiter in waiters { waiter.continuation.resume(returning: nil) }
        }
    }

    /// Reads on a thread of its own: blocking reads on Dispatch's shared pool could starve it (and Swift
    /// concurrency, which runs on that pool on Linux) on a small machine.
    private func read(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    receive(line)
                }
            }
            if !pending.isEmpty { receive(String(decoding: pending, as: UTF8.self)) }
            outputFinished.leave()
        }
    }

    private func receive(_ line: String) {
        if echo {
            let text = "[\(label)] \(line)\n"
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        let ready = lock.withLock { () -> [CheckedContinuation<String?, Never>] in
            collectedLines.append(line)
            var ready: [CheckedContinuation<String?, Never>] = []
            lineWaiters.removeAll { waiter in
                guard waiter.predicate(line) else { return false }
                ready.append(waiter.continuation)
                return true
            }
            return ready
        }
        for continuation in ready { continuation.resume(returning: line) }
    }

    /// Every line printed so far (standard output and standard error).
    package var lines: [String] { lock.withLock { collectedLines } }

    /// The first line, past or future, that satisfies `predicate`; nil if the output ends first.
    package func firstLine(where predicate: @escaping (String) -> Bool) async -> String? {
        await withCheckedContinuation { continuation in
            let found: String?? = lock.withLock {
                if let line = collectedLines.first(where: predicate) { return .some(line) }
                if isOutputClosed { return .some(nil) }
                lineWaiters.append((predicate, continuation))
                return nil
            }
            if let found { continuation.resume(returning: found) }
        }
    }

    /// Writes a line to the program's standard input (when it takes input).
    package func send(_ line: String) {
        input?.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// Closes the program's standard input: it reads the end of its input.
    package func closeInput() {
        try? input?.fileHandleForWriting.close()
    }

    /// Asks the program to stop gracefully (SIGTERM).
    package func terminate() {
        if process.isRunning { process.terminate() }
    }

    /// Stops the program at once (SIGKILL).
    package func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }

    /// Waits until the program exits and its output is read; returns its exit status.
    @discardableResult
    package func waitForExit() async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            outputFinished.notify(queue: .global()) { continuation.resume() }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            exited.notify(queue: .global()) { continuation.resume() }
        }
        return process.terminationStatus
    }

    /// Waits for `operation` up to `timeout`; nil on timeout. It returns at the deadline even when `operation` ignores
    /// cancellation (waiting for a process to exit does): the operation is left to finish on its own.
    package static func withDeadline<T: Sendable>(_ timeout: Duration, _ operation: @escaping @Sendable () async -> T) async -> T? {
        let (results, continuation) = AsyncStream.makeStream(of: T?.self)
        let work = Task {
            continuation.yield(await operation())
            continuation.finish()
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            continuation.yield(nil)
            continuation.finish()
        }
        var iterator = results.makeAsyncIterator()
        let first = await iterator.next() ?? nil
        work.cancel()
        timer.cancel()
        return first
    }
}
