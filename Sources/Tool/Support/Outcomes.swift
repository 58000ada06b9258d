/// A finding: the run worked and found something (exit 1). The report was already printed.
struct Finding: Error {
    var message: String = ""
}

/// Bad input or an environment problem (exit 2), said in one line.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
