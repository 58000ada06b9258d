import ISMAccess
import ISMChecks
import ISMEngine
import ISMSimulator

/// One row of the kill table as a worker hands it back (and as the table is printed): the
/// mutant, whether and where it was killed, and how long its run took.
struct MutantRecord: Codable {
    var mutant: Mutant
    var killed: Bool
    var byteOrder: ByteOrder?
    var operationsToKill: Int?
    var shrunkLength: Int?
    var divergence: Divergence?
    var reproducer: Reproducer?
    var seconds: Double

    init(_ k: MutantKill, seconds: Double) {
        mutant = k.mutant
        killed = k.killed
        byteOrder = k.byteOrder
        operationsToKill = k.operationsToKill
        shrunkLength = k.shrunkLength
        divergence = k.divergence
        reproducer = k.reproducer
        self.seconds = seconds
    }
}
