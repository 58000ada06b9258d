/// The run worked and found something (exit 1); the report was already printed.
struct FindingExit: Error {
    var message: String = ""
}

/// Bad input or an environment problem (exit 2), said in one line.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
