import ArgumentParser
import Foundation
import ISMAccess
import enum ISMAccess.Operation
import ISMChecks
import ISMEngine
import ISMModel
import ISMOutOfProcess
import ISMVFIO
import SystemPackage

extension ProfileChoice: ExpressibleByArgument {}

/// `ismkit hw`: a conformance run against a real device bound to a vfio driver, in process
/// (`--device`) or through ismkit-agent on the device's machine (`--agent COMMAND`, `--connect
/// unix:PATH`): the same run either way (`HardwareRun`).
///
/// Read-only unless `--allow-write` names ranges; a write outside them is refused before it
/// reaches the kernel (or the agent) and reported. `--dry-run` prints the planned operations
/// and opens nothing.
struct Hw: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Conformance run against a real device through VFIO (read-only unless writes are allowed).",
        discussion: """
            The device must be bound to a vfio driver (vfio-pci or ism-vfio-pci). The model learns the \
            device's contents from the run's own reads and writes. Region offsets always come from \
            VFIO_DEVICE_GET_REGION_INFO (SPEC R-OFF-2).
            Give exactly one of --device (this machine, in process), --agent (a command that runs \
            ismkit-agent, e.g. over ssh; give the agent its own --allow-write list in the command) or \
            --connect unix:PATH (an agent behind a unix socket, e.g. a VM's virtio-serial port).
            Exit 0: conforming. Exit 1: the device differs from the model (each differing check is listed). \
            Exit 2: bad arguments or the device cannot be used (one line says why).
            """
    )

    @Option(help: "PCI address of the device on this machine, for example 0000:00:01.0.")
    var device: String?

    @Option(help: "A command (run with /bin/sh -c) that starts ismkit-agent and talks on its stdin/stdout, for example 'ssh root@z1 /usr/local/bin/ismkit-agent --allow-write 2:0x0-0xfff 0000:00:00.0'.")
    var agent: String?

    @Option(help: "An ismkit-agent behind a unix socket: unix:PATH (a VM's virtio-serial port, QEMU -chardev socket,path=PATH,server=on).")
    var connect: String?

    @Option(help: "Seconds to wait for each answer of the agent.")
    var timeout: Double = 10

    @Flag(name: .customLong("unsafe-send-refused-writes"),
          help: ArgumentHelp("Send writes outside --allow-write to the agent anyway, so that only its own guard stands (for tests).", visibility: .hidden))
    var unsafeSendRefusedWrites = false

    @Option(help: "Semantics to compare against: auto (ism for IBM ISM 1014:04ed, else vfio-pci), ism, vfio-pci.")
    var profile: ProfileChoice = .auto

    @Option(name: .customLong("allow-write"), parsing: .upToNextOption,
            help: "Ranges that may be written, REGION:START-END (inclusive; REGION 0-5 or 7 for config). Repeatable.")
    var allowWrite: [String] = []

    @Option(help: "The device's maximum store block in bytes, 1...1048576, when known (QEMU's zPCI reports 128; default: the model's 4096).")
    var maxstbl: UInt64?

    @Flag(name: .customLong("strict-store-blocks"), help: "The device checks store blocks strictly (R-WRITE-4), as QEMU's zPCI does.")
    var strictStoreBlocks = false

    @Flag(name: .customLong("dry-run"), help: "Print the planned operations and touch nothing.")
    var dryRun = false

    @OptionGroup var budget: BudgetOptions

    @OptionGroup var sequence: SequenceOptions

    @Option(name: .customLong("operations-file"), help: "Run the operations of this reproducer file instead of generated ones.")
    var operationsFile: String?

    @Option(help: "Write the journal of every write the kernel accepted to this file (for checks from the device side).")
    var journal: String?

    @OptionGroup var reports: ReportOptions

    @OptionGroup var output: ReproducerOutputOptions

    @Option(name: .customLong("sysfs-root"), help: ArgumentHelp("Root of sysfs (for tests).", visibility: .hidden))
    var sysfsRoot: String = "/sys"

    @Option(name: .customLong("dev-root"), help: ArgumentHelp("Root of /dev (for tests).", visibility: .hidden))
    var devRoot: String = "/dev"

    @Flag(help: "No progress lines.")
    var quiet = false

    func run() throws {
        if let m = maxstbl, !(1...(1 << 20)).contains(m) { throw UsageError("--maxstbl must be a number of bytes in 1...1048576") }
        reports.begin()
        guard [device, agent, connect].compactMap({ $0 }).count == 1 else {
            throw UsageError("give exactly one of --device ADDRESS, --agent COMMAND, --connect unix:PATH")
        }
        var allow = WriteAllowList()
        for text in allowWrite {
            do { allow.ranges.append(try WriteAllowList.parse(text)) } catch { throw UsageError("--allow-write " + error.description) }
        }
        var fixed: [Operation]?
        if let operationsFile {
            do { fixed = try Reproducer.load(path: operationsFile).operations } catch { throw UsageError(error.description) }
        }
        guard let device else { return try runAgent(allow: allow, fixed: fixed) }
        if unsafeSendRefusedWrites { throw UsageError("--unsafe-send-refused-writes is for --agent and --connect only") }
        guard let address = PCIAddress(device) else { throw UsageError(VFIOError.badAddress(device).description) }
        if dryRun {
            // The plan needs only sysfs; a pre-flight problem is reported, not fatal.
            let sysfs = SysfsPCIDevice(address: address, root: sysfsRoot)
            guard sysfs.exists else { throw UsageError(VFIOError.noSuchDevice(address, sysfsPath: sysfs.path).description) }
            var problem: String?
            do { _ = try VFIOConnection.preflight(address: address, sysfsRoot: sysfsRoot) } catch { problem = error.description }
            try plan(sysfs: sysfs, profile: self.profile.resolve(vendor: sysfs.vendor, device: sysfs.deviceID), allow: allow, fixed: fixed)
            if let problem { print("pre-flight: \(problem) (a real run would stop here)") }
            return
        }
        let sysfs: SysfsPCIDevice
        do { sysfs = try VFIOConnection.preflight(address: address, sysfsRoot: sysfsRoot) } catch { throw UsageError(error.description) }
        let profile = self.profile.resolve(vendor: sysfs.vendor, device: sysfs.deviceID)
        let connection: VFIOConnection
        do { connection = try VFIOConnection(address: address, sysfsRoot: sysfsRoot, devRoot: devRoot) } catch {
            throw UsageError(error.description)
        }
        let writes = WriteJournal()
        var hw = HardwareRun(connection: connection, profile: profile, allowList: allow, journal: writes, seed: budget.seed,
                             budget: budget.budget(defaultSeconds: 10), sequenceLength: sequence.sequenceLength, fixed: fixed)
        hw.shrinkChecks = 150
        hw.maxstbl = maxstbl
        hw.strictStoreBlocks = strictStoreBlocks
        if !quiet {
            printError("ismkit hw: \(address) (\(ids(sysfs)), driver \(sysfs.driver ?? "none")) via \(connection.path), "
                + "\(profile.rawValue) profile (\(self.profile.rawValue)), writes allowed: \(allow), seed \(budget.seed)")
        }
        var result: HardwareRun.Result
        do {
            result = try hw.run(progress: quiet ? nil : { n, t in printError("  [\(Int(t.seconds)) s] \(n) operations") })
        } catch {
            throw UsageError("cannot use \(address): \(error)")
        }
        let probes = fixed == nil ? (try? hw.probeTable(config: result.config)) ?? [] : []
        hw.saveReproducers(&result, store: ReproducerStore(directory: output.output))
        if let journal { try writeJournal(writes, to: journal) }
        var r = makeReport(result, device: "\(address) \(ids(sysfs)) driver=\(sysfs.driver ?? "none")", access: connection.path.description,
                           allow: allow, journal: writes)
        r.kernelAnswers = probes
        printReport(r)
        try conclude(report(r, findings: result.findings, seconds: result.elapsed.seconds), reports)
    }

    /// The run in the shared report model: one suite for the device, a check per kind of
    /// difference the campaign looks for, the probes at the SPEC's edges, and every check not made.
    func report(_ r: HardwareReport, findings: [Finding], seconds: Double) -> Report {
        var suite = Report.Suite(name: r.device + ", " + r.profile + " profile",
                                 diagnostics: ["via \(r.access)", "\(r.operations) operations, \(Int(r.operationsPerSecond)) operations/s",
                                               "writes: \(r.writesJournaled) accepted, \(r.refusedWrites) refused before the device"])
        suite.checks.append(.init(name: "generated and probe operations agree with the model", findings: findings, seconds: seconds))
        for p in r.kernelAnswers {
            suite.checks.append(.init(name: "probe \(p.operation)", status: .pass,
                                      diagnostics: ["model: \(p.model)", "kernel: \(p.kernel)" + (p.agrees ? "" : " (differs)")]))
        }
        for what in r.checksNotMade { suite.checks.append(.init(name: what, status: .skip("a real device cannot show it"))) }
        return Report(command: "hw", title: "\(r.device) via \(r.access), seed \(r.seed)", seconds: seconds, suites: [suite],
                      details: detailsJSON(r), interruptedBy: Interruption.requestedBy)
    }

    // MARK: through an agent

    /// The same run through ismkit-agent: profile from its `DEVICE` answer, offsets from its
    /// `REGIONS`. An agent that cannot be reached, speaks another protocol, dies or answers
    /// outside the protocol is exit 2 (one line); the device differing from the model is exit 1.
    func runAgent(allow: WriteAllowList, fixed: [Operation]?) throws {
        if dryRun { throw UsageError("--dry-run needs --device (it plans from this machine's sysfs)") }
        guard timeout > 0, timeout.isFinite else { throw UsageError("--timeout must be a positive number of seconds") }
        let endpoint: AgentEndpoint
        if let agent {
            guard !agent.allSatisfy(\.isWhitespace) else { throw UsageError("--agent needs a command") }
            endpoint = .command(agent)
        } else {
            do { endpoint = try AgentEndpoint.parseConnect(connect ?? "") } catch { throw UsageError(error.description) }
        }
        let session: AgentConnection
        do { session = try AgentConnection(endpoint: endpoint, timeout: .milliseconds(Int64(timeout * 1000))) } catch {
            throw UsageError(error.description)
        }
        func broken(_ what: String, _ error: AccessError? = nil) -> UsageError {
            let reason = session.brokenReason.map(\.description) ?? error.map(Self.reason) ?? "broken"
            return UsageError("agent \(endpoint): \(what): \(reason)")
        }
        let profile = self.profile.resolve(vendor: session.vendor, device: session.deviceID)
        let ids = "\(session.vendor.map { String(format: "%04x", $0) } ?? "????"):\(session.deviceID.map { String(format: "%04x", $0) } ?? "????")"
        let writes = WriteJournal()
        var hw = HardwareRun(agent: session, profile: profile, allowList: allow, journal: writes, hostGuard: !unsafeSendRefusedWrites,
                             seed: budget.seed, budget: budget.budget(defaultSeconds: 10), sequenceLength: sequence.sequenceLength, fixed: fixed)
        hw.shrinkChecks = 150
        hw.maxstbl = maxstbl
        hw.strictStoreBlocks = strictStoreBlocks
        if !quiet {
            printError("ismkit hw: agent \(endpoint) (\(ids), \(session.regions.count) regions, \(session.byteOrder.rawValue)-endian), "
                + "\(profile.rawValue) profile (\(self.profile.rawValue)), writes allowed: \(allow)"
                + (unsafeSendRefusedWrites ? " (host guard OFF: the agent's own list decides)" : "") + ", seed \(budget.seed)")
        }
        var result: HardwareRunResult
        do throws(AccessError) {
            result = try hw.run(progress: quiet ? nil : { n, t in printError("  [\(Int(t.seconds)) s] \(n) operations") })
        } catch {
            throw broken("the run stopped", error)
        }
        // A broken session mid-run is the agent's failure, not a finding about the device.
        if session.brokenReason != nil { throw broken("the run stopped") }
        let probes = fixed == nil ? (try? hw.probeTable(config: result.config)) ?? [] : []
        if session.brokenReason != nil { throw broken("the probes stopped") }
        let counters: (entries: Int, bytes: Int, refused: Int)
        do throws(AccessError) { counters = try session.counters() } catch { throw broken("cannot read its counters", error) }
        do throws(AccessError) { try session.quit() } catch { throw broken("it did not end cleanly after QUIT", error) }
        hw.saveReproducers(&result, store: ReproducerStore(directory: output.output))
        if let journal { try writeJournal(writes, to: journal) }
        var r = makeReport(result, device: "\(ids) (agent, \(session.regions.count) regions)", access: "agent \(endpoint)",
                           allow: allow, journal: writes)
        r.kernelAnswers = probes
        r.agent = .init(endpoint: endpoint.description, byteOrder: session.byteOrder.rawValue, hostGuard: !unsafeSendRefusedWrites,
                        refusedWrites: counters.refused, writesJournaled: counters.entries, bytesWritten: counters.bytes)
        printReport(r)
        try conclude(report(r, findings: result.findings, seconds: result.elapsed.seconds), reports)
    }

    static func reason(_ e: AccessError) -> String {
        if case .broken(let b) = e { return b.description }
        return e.description
    }

    // MARK: dry run

    /// The planned operations, from sysfs alone (BAR and config sizes): nothing is opened.
    func plan(sysfs: SysfsPCIDevice, profile: Profile, allow: WriteAllowList, fixed: [Operation]?) throws {
        guard let bars = sysfs.barSizes else { throw UsageError("cannot read \(sysfs.path)/resource") }
        let config = DeviceConfig(barLengths: bars, configSize: sysfs.configSize ?? 256, hostByteOrder: .native, profile: profile)
        var ops = fixed ?? HardwarePlan.probes(profile: profile, writes: !allow.isReadOnly)
        if fixed == nil {
            var g = OperationGenerator(config: config, options: HardwarePlan.generatorOptions(config: config, allowList: allow), seed: budget.seed)
            let n = budget.operations ?? 200
            while ops.count < n { ops.append(g.next()) }
            ops = Array(ops.prefix(n))
        }
        print("dry run: \(sysfs.address) (\(ids(sysfs)), driver \(sysfs.driver ?? "none")), \(profile.rawValue) profile, "
            + "writes allowed: \(allow); nothing is opened or sent")
        print("BAR sizes (sysfs): \(bars.map { "0x" + String($0, radix: 16) }.joined(separator: " ")), config \(config.configSize) bytes")
        print("offsets below are in the \(profile.rawValue) model's space (index << \(profile.regionShift)); a run sends each to the kernel at the region offset VFIO_DEVICE_GET_REGION_INFO reports")
        var refused = 0
        for (i, op) in ops.enumerated() {
            let blocked = Self.modelRefuses(op, config: config, allow: allow)
            if blocked { refused += 1 }
            print("  \(i + 1). \(op.summary(in: config.layout))\(blocked ? "  [refused: outside the write allow-list]" : "")")
        }
        print("planned: \(ops.count) operations, \(ops.filter(\.isWrite).count) writes, \(refused) refused by the allow-list")
    }

    /// The allow-list decision as the model's offset space sees it (the dry run has no kernel offsets).
    static func modelRefuses(_ op: Operation, config: DeviceConfig, allow: WriteAllowList) -> Bool {
        switch op {
        case let .pwrite(offset, count, _, _):
            if count == 0 { return false }
            let d = DecodedOffset(offset: offset, profile: config.profile)
            guard offset >> 63 == 0, d.index <= 7 else { return true }
            let size = d.index == 7 ? config.configSize : (config.barLength(d.index) ?? 0)
            let landing = d.position < size ? Int(min(UInt64(count), size - d.position)) : count
            return !allow.allows(region: UInt32(d.index), position: d.position, count: landing)
        case .write(let count, _, _):
            return count > 0 && allow.isReadOnly
        default:
            return false
        }
    }

    // MARK: output

    func ids(_ s: SysfsPCIDevice) -> String {
        func h(_ v: UInt16?) -> String { v.map { String(format: "%04x", $0) } ?? "????" }
        return "\(h(s.vendor)):\(h(s.deviceID))"
    }

    func writeJournal(_ j: WriteJournal, to path: String) throws {
        do {
            let fd = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite, .groupRead, .otherRead])
            defer { try? fd.close() }
            _ = try fd.writeAll(Array(j.text().utf8))
        } catch {
            throw UsageError("cannot write the journal to \(path): \(error)")
        }
    }

    func makeReport(_ r: HardwareRunResult, device: String, access: String,
                    allow: WriteAllowList, journal: WriteJournal) -> HardwareReport {
        var notMade = RunReport.checksNotMade(r.capabilities, compareTrace: false)
        notMade.append("MSI-X table ranges are not located (a write there is dropped by vfio-pci; the model would expect it to stick)")
        let seconds = r.elapsed.seconds
        return HardwareReport(
            verdict: r.findings.isEmpty ? "conforming" : "non-conforming",
            device: device,
            access: access, profile: profile(r),
            regions: r.regions.map { .init(index: $0.index, offset: "0x" + String($0.offset, radix: 16), size: "0x" + String($0.size, radix: 16), flags: $0.flags.rawValue) },
            allowWrite: allow.ranges.map(\.description), seed: budget.seed, operations: r.operations, sequences: r.sequences,
            seconds: seconds, operationsPerSecond: seconds > 0 ? Double(r.operations) / seconds : 0,
            refusedWrites: r.refused, bytesWritten: journal.byteCount, writesJournaled: journal.entries.count,
            rulesExercised: r.rules.map(\.rawValue), checksNotMade: notMade,
            differences: r.findings.compactMap { f in
                f.divergence.map {
                    .init(rule: $0.headline, aspect: $0.aspect.rawValue, occurrences: f.occurrences, first: $0, shrunk: f.operations,
                          reproducer: f.reproducer)
                }
            })
    }

    private func profile(_ r: HardwareRunResult) -> String { r.config.profile.rawValue }

    func printReport(_ r: HardwareReport) {
        print("device: \(r.device), via \(r.access), \(r.profile) profile")
        print("regions (VFIO_DEVICE_GET_REGION_INFO):")
        for g in r.regions { print("  \(g.index): offset \(g.offset) size \(g.size) flags 0x\(String(g.flags, radix: 16))") }
        print("writes allowed: \(r.allowWrite.isEmpty ? "none (read-only)" : r.allowWrite.joined(separator: ", "))")
        print(String(format: "ran %d operations in %d sequences in %.2f s: %.0f operations/s through the kernel", r.operations, r.sequences, r.seconds, r.operationsPerSecond))
        print("writes: \(r.writesJournaled) accepted by the kernel (\(r.bytesWritten) bytes), \(r.refusedWrites) refused by ismkit (outside the allow-list, never sent)")
        if let a = r.agent {
            print("agent: \(a.byteOrder)-endian; it journaled \(a.writesJournaled) writes (\(a.bytesWritten) bytes) and its own guard refused \(a.refusedWrites)"
                + (a.hostGuard ? "" : " (the host's guard was off: every write was sent)"))
        }
        print("rules exercised: \(r.rulesExercised.count)/\(Rule.allCases.count) (\(r.rulesExercised.joined(separator: " ")))")
        print("checks not made: \(r.checksNotMade.joined(separator: "; "))")
        if !r.kernelAnswers.isEmpty {
            print("what the kernel answered at the SPEC's edges (model's prediction | kernel's answer):")
            for p in r.kernelAnswers {
                print("  \(p.agrees ? "agrees " : "DIFFERS") \(p.operation): \(p.model) | \(p.kernel)")
            }
        }
        if r.differences.isEmpty {
            print("checks that differ from the model: none")
        } else {
            print("checks that differ from the model: \(r.differences.count)")
            for d in r.differences {
                print("- [\(d.rule)] \(d.aspect), \(d.occurrences) time(s): \(Rule(rawValue: d.rule)?.summary ?? "")")
                if let ops = d.shrunk {
                    print("  shrunk to \(ops.count) operation(s): " + ops.map { $0.summary(in: d.first.layout) }.joined(separator: "; "))
                }
                print("  " + d.first.description.replacingOccurrences(of: "\n", with: "\n  "))
                if let p = d.reproducer { print("  reproducer: \(p)") }
            }
        }
        print("verdict: \(r.verdict)")
    }
}
