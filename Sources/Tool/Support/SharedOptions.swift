import ArgumentParser

/// `--output DIR`: where reproducer files go (run, conform, hw).
struct ReproducerOutputOptions: ParsableArguments {
    @Option(help: "Folder for reproducer files.")
    var output: String = "reproducers"
}

/// `--sequence-length N` (run, conform, hw).
struct SequenceOptions: ParsableArguments {
    @Option(name: .customLong("sequence-length"), help: "Operations per sequence; each sequence starts from a fresh device and model.")
    var sequenceLength: Int = 32

    mutating func validate() throws {
        guard sequenceLength > 0 else { throw ValidationError("--sequence-length must be positive") }
    }
}

/// `--report FILE`: the run's summary as JSON (run, hw).
struct JSONReportOptions: ParsableArguments {
    @Option(help: "Also write the run's summary as JSON to this file.")
    var report: String?
}

/// `--junit FILE`: a JUnit XML report (run, mutants, conform).
struct JUnitOptions: ParsableArguments {
    @Option(help: "Also write a JUnit XML report (one test case per check; a finding is a failure) to this file.")
    var junit: String?
}
