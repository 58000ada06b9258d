import ArgumentParser
import ISMAccess

/// `ismkit rules`: the SPEC rule IDs, one line each.
struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the SPEC.md rule IDs with one line each.")

    func run() {
        for r in Rule.allCases {
            print("\(r.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) §\(r.section)  \(r.summary)")
        }
    }
}
