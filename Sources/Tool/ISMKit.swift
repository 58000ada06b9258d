import ArgumentParser

@main
struct ISMKit: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ismkit", abstract: "ism-vfio-pci fuzzing and conformance kit")
}
