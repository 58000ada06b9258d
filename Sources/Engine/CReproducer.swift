import ISMAccess
import ISMModel

/// Turns an operation sequence into a self-contained C program that replays it on a real
/// device through VFIO and checks every result against what the golden model predicts.
///
/// Promises: the program needs only libc and kernel headers (`gcc -static repro.c`); it opens
/// the device given by PCI address on its command line through its IOMMU group and a type1
/// container; it takes every region's base from `VFIO_DEVICE_GET_REGION_INFO` (R-OFF-2) and
/// maps the model's offsets (index << shift) onto them exactly as the `ismkit hw` backend does;
/// it prints KTAP (one test per operation) and exits 0 when every check passes, 1 when one
/// fails, 2 when the device cannot be opened.
///
/// What it checks per operation: the return value or errno, region info, the bytes a read
/// returns where the model knows them (bytes this sequence wrote before; contents it never
/// wrote are unknown on a real device), and that no byte past the exact-size read buffer
/// changed. It also checks what a device must satisfy whatever its contents: a read returns
/// the same bytes as an aligned 8-byte-wide re-read of the same range (a driver that loses
/// bytes of narrow loads, like a byte-order bug, fails there). Writes are issued only inside
/// `allowList` (region, first, last), which the program also enforces itself before each write.
/// Every operation it cannot run is a KTAP `# SKIP` with the reason: injected faults,
/// lifecycle and handle recovery (a real device cannot do them), writes outside the list.
public enum CReproducer {
    /// Why an operation is skipped, or nil when the program runs it.
    public static func skipReason(_ op: Operation, allowList: [(region: UInt32, first: UInt64, last: UInt64)], config: DeviceConfig,
                                  position: UInt64) -> String? {
        func allowed(_ offset: UInt64, _ count: Int) -> Bool {
            if count == 0 { return true }
            guard offset >> 63 == 0 else { return false }
            let (index, pos) = config.regionLayout.decode(offset)
            let end = pos &+ UInt64(count) &- 1
            return allowList.contains { UInt64($0.region) == index && $0.first <= pos && end <= $0.last && end >= pos }
        }
        switch op {
        case .pread(_, _, let f), .read(_, let f): return f == .none ? nil : "an injected fault: a real device cannot fail on demand"
        case let .pwrite(o, c, _, f):
            if f != .none { return "an injected fault: a real device cannot fail on demand" }
            return allowed(o, c) ? nil : "a write outside --allow-write (emit with --allow-write REGION:START-END to run it)"
        case let .write(c, _, f):
            if f != .none { return "an injected fault: a real device cannot fail on demand" }
            return allowed(position, c) ? nil : "a write outside --allow-write (emit with --allow-write REGION:START-END to run it)"
        case .seek, .regionInfo: return nil
        case .recoverHandle: return "handle recovery: a real device cannot be made to change its function handle"
        case .attachPeer, .detachPeer, .checkResources: return "a lifecycle step: probing a second device needs the driver in user space"
        }
    }

    /// - Parameters:
    ///   - describe: the name of each operation in the KTAP lines (the harness's summary form).
    ///   - allowList: the ranges writes may go to; empty: the program writes nothing.
    public static func emit(operations: [Operation], config: DeviceConfig, title: String, describe: (Operation) -> String = { "\($0)" },
                            allowList: [(region: UInt32, first: UInt64, last: UInt64)] = []) -> String {
        var model = GoldenModel(config: config, contents: .learned)
        var rows: [String] = []
        var pool: [UInt8] = []
        var spans: [String] = []
        var skips: [String] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        let source = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { source.deallocate() }

        for op in operations {
            var kind = "OP_SKIP", offset: UInt64 = 0, count = 0, seek: Int64 = 0, whence = 0
            let skip = skipReason(op, allowList: allowList, config: config, position: model.position)
            var index: UInt32 = 0, argsz: UInt32 = 0
            var expect = "EXP_NONE", value: Int64 = 0, err: Int32 = 0
            var rOffset: UInt64 = 0, rSize: UInt64 = 0, rFlags: UInt32 = 0
            var dataAt = 0, spanFirst = spans.count, spanCount = 0
            let n = min(op.count ?? 0, 1 << 20)
            func record(_ outcome: Result<Int64, AccessError>) {
                switch outcome {
                case .success(let v): expect = "EXP_VALUE"; value = v
                case .failure(.errno(let e)): expect = "EXP_ERRNO"; err = e.rawValue
                case .failure(.broken): expect = "EXP_NONE"
                }
            }
            func fill(_ pattern: UInt8) {
                dataAt = pool.count
                for i in 0..<n {
                    let b = DeviceContents.patternByte(pattern, i)
                    source[i] = b
                    pool.append(b)
                }
            }
            func readOutcome(_ r: Result<Int, AccessError>) {
                record(r.map(Int64.init))
                guard case .success(let got) = r, model.lastDecision.bytesComparable else { return }
                var i = 0
                let unknown = model.lastDecision.unknownBytes
                while i < got {
                    if let u = unknown.first(where: { $0.contains(i) }) { i = u.upperBound; continue }
                    var j = i
                    while j < got, !unknown.contains(where: { $0.contains(j) }) { j += 1 }
                    spans.append("{ \(i), \(j - i), \(pool.count) }")
                    pool.append(contentsOf: buffer[i..<j])
                    spanCount += 1
                    i = j
                }
            }
            switch skip == nil ? op : .checkResources {
            case let .pread(o, _, fault) where fault == .none:
                kind = "OP_PREAD"; offset = o; count = n
                readOutcome(Result { () throws(AccessError) in try model.pread(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n]), offset: o, fault: .none) })
            case let .read(_, fault) where fault == .none:
                kind = "OP_READ"; count = n
                readOutcome(Result { () throws(AccessError) in try model.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n]), fault: .none) })
            case let .pwrite(o, _, p, fault) where fault == .none:
                kind = "OP_PWRITE"; offset = o; count = n; fill(p)
                record(Result { () throws(AccessError) in Int64(try model.pwrite(from: UnsafeRawBufferPointer(rebasing: source[0..<n]), offset: o, fault: .none)) })
            case let .write(_, p, fault) where fault == .none:
                kind = "OP_WRITE"; count = n; fill(p)
                record(Result { () throws(AccessError) in Int64(try model.write(from: UnsafeRawBufferPointer(rebasing: source[0..<n]), fault: .none)) })
            case let .seek(o, w):
                kind = "OP_SEEK"; seek = o; whence = w == .set ? 0 : 1
                record(Result { () throws(AccessError) in try model.seek(offset: o, whence: w) })
            case let .regionInfo(i, a):
                kind = "OP_REGION_INFO"; index = i; argsz = a
                do {
                    let r = try model.regionInfo(index: i, argsz: a)
                    expect = "EXP_REGION"; rOffset = r.offset; rSize = r.size; rFlags = r.flags.rawValue
                } catch {
                    if case .errno(let e) = error { expect = "EXP_ERRNO"; err = e.rawValue }
                }
            default:
                break
            }
            if spanCount == 0 { spanFirst = 0 }
            let name = cString(describe(op))
            skips.append("\"" + cString(skip ?? "") + "\"")
            rows.append("    { \(kind), \"\(name)\", 0x\(hex(offset))ULL, \(count), \(seek)LL, \(whence), \(index)u, \(argsz)u, \(dataAt), "
                + "\(expect), \(value)LL, \(err), 0x\(hex(rOffset))ULL, 0x\(hex(rSize))ULL, 0x\(String(rFlags, radix: 16))u, \(spanFirst), \(spanCount) },")
        }
        var out = header(title: title, config: config, operations: operations.count, ignoredFlags: model.ignoredRegionFlags.rawValue)
        out += "static const unsigned char pool[] = {\n"
        if pool.isEmpty { out += "    0\n" }
        for chunk in stride(from: 0, to: pool.count, by: 16) {
            out += "    " + pool[chunk..<min(pool.count, chunk + 16)].map { "0x" + hex(UInt64($0), 2) }.joined(separator: ", ") + ",\n"
        }
        out += "};\n\nstatic const struct span spans[] = {\n"
        out += spans.isEmpty ? "    { 0, 0, 0 }\n" : spans.map { "    " + $0 + ",\n" }.joined()
        out += "};\n\nstatic const struct step steps[] = {\n" + rows.joined(separator: "\n") + "\n};\n"
        out += "\n/* Why each step is skipped (empty: it runs). */\nstatic const char *const skip_reason[] = {\n"
            + (skips.isEmpty ? "    \"\"" : skips.map { "    " + $0 }.joined(separator: ",\n")) + "\n};\n"
        out += "\n/* Where writes may go: region index, first and last byte (inclusive). */\nstatic const struct allowed { unsigned region; uint64_t first, last; } allowed[] = {\n"
            + (allowList.isEmpty ? "    { 0xffffffffu, 1, 0 }" : allowList.map { "    { \($0.region)u, 0x\(hex($0.first))ULL, 0x\(hex($0.last))ULL }" }.joined(separator: ",\n"))
            + "\n};\n"
        out += body
        return out
    }

    static func hex(_ v: UInt64, _ width: Int = 1) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    static func cString(_ s: String) -> String {
        s.replacingAll("\\", "\\\\").replacingAll("\"", "\\\"")
    }

    /// The C of the model's region layout: `model_region` (a model offset's region index and
    /// position; 0 when it names none) and `model_base` (region i's model offset), from the
    /// shift or from the device's base table. The kernel's bases always come from region info.
    public static func modelLayout(_ config: DeviceConfig) -> String {
        guard let t = config.regionTable else {
            return """
            /* The model's region layout: index << MODEL_SHIFT. */
            #define NO_REGION 0x7fff000000000000ULL /* no region in any shift layout */
            static int model_region(uint64_t off, uint64_t *index, uint64_t *pos) {
                *index = off >> MODEL_SHIFT; *pos = off & ((1ULL << MODEL_SHIFT) - 1);
                return 1;
            }
            static uint64_t model_base(int i) { return (uint64_t)i << MODEL_SHIFT; }
            """
        }
        let bases = t.bases.map { "0x" + hex($0) + "ULL" }.joined(separator: ", ")
        return """
        /* The model's region layout: the device's region base table (MODEL_SHIFT is unused). */
        #define NO_REGION 0x7fff000000000000ULL /* no region in any shift layout */
        static const uint64_t model_bases[\(t.bases.count)] = { \(bases) };
        #define MODEL_SPAN 0x\(hex(t.span))ULL
        static int model_region(uint64_t off, uint64_t *index, uint64_t *pos) {
            for (uint64_t i = 0; i < \(t.bases.count); i++)
                if (off >= model_bases[i] && off - model_bases[i] < MODEL_SPAN) { *index = i; *pos = off - model_bases[i]; return 1; }
            return 0;
        }
        static uint64_t model_base(int i) { return i < \(t.bases.count) ? model_bases[i] : NO_REGION; }
        """
    }

    static func header(title: String, config: DeviceConfig, operations: Int, ignoredFlags: UInt32) -> String {
        """
        /*
         * ismkit reproducer: \(title.replacingAll("*/", "* /"))
         * \(operations) operation(s), \(config.profile.rawValue) profile (\(config.regionTable == nil ? "region index << \(config.profile.regionShift)" : "region bases from the device's table") in the model's offsets).
         * Expected results are the golden model's (SPEC.md); device contents the sequence did not
         * write are unknown, so only bytes it wrote earlier are compared.
         *
         * Build: gcc -O2 -static -o repro repro.c
         * Run:   ./repro 0000:00:01.0     (the device bound to a vfio driver; needs root)
         * Output is KTAP; exit 0 = every check passed, 1 = a check failed, 2 = setup failed.
         */
        #define _GNU_SOURCE
        #include <errno.h>
        #include <fcntl.h>
        #include <stdint.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <unistd.h>
        #include <sys/ioctl.h>
        #include <linux/vfio.h>

        #define MODEL_SHIFT \(config.profile.regionShift)
        \(modelLayout(config))
        #define IGNORED_REGION_FLAGS 0x\(String(ignoredFlags, radix: 16))u

        enum kind { OP_SKIP, OP_PREAD, OP_PWRITE, OP_READ, OP_WRITE, OP_SEEK, OP_REGION_INFO };
        enum expect { EXP_NONE, EXP_VALUE, EXP_ERRNO, EXP_REGION };
        struct span { size_t at, len, pool; };
        struct step {
            enum kind kind; const char *name;
            uint64_t offset; size_t count; long long seek; int whence; uint32_t index, argsz; size_t data;
            enum expect expect; long long value; int err;
            uint64_t r_offset, r_size; uint32_t r_flags;
            size_t span_first, span_count;
        };


        """
    }

    static let body = """

        #define NSTEPS (sizeof(steps) / sizeof(steps[0]))
        #define GUARD 16
        #define GUARD_BYTE 0xE7

        static int device = -1;
        static uint64_t position;  /* the file position, in the model's offsets */
        static struct { int present; uint64_t offset, size; } regions[64];
        static uint64_t span = UINT64_MAX;

        static unsigned char buf_of_step[(1 << 20) + GUARD];

        static int fail_setup(const char *what, const char *path) {
            printf("Bail out! %s %s: %s\\n", what, path, strerror(errno));
            return 2;
        }

        /* The kernel offset for a model offset: region base from VFIO_DEVICE_GET_REGION_INFO. */
        static uint64_t to_kernel(uint64_t off) {
            if (off >> 63) return off;
            uint64_t index, pos;
            if (!model_region(off, &index, &pos)) return NO_REGION | (off & 0xfff);
            if (index >= 64 || !regions[index].present || pos >= span) return off;
            return regions[index].offset + pos;
        }

        /* The model offset for a kernel offset (a file position). */
        static uint64_t to_model(uint64_t off) {
            int best = -1;
            for (int i = 0; i < 64; i++)
                if (regions[i].present && regions[i].offset <= off && (best < 0 || regions[i].offset > regions[best].offset)) best = i;
            if (best < 0 || off - regions[best].offset >= span) return off;
            return model_base(best) + (off - regions[best].offset);
        }

        static int open_device(const char *bdf) {
            char path[512], link[256];
            snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/iommu_group", bdf);
            ssize_t n = readlink(path, link, sizeof link - 1);
            if (n < 0) return fail_setup("no IOMMU group for", bdf);
            link[n] = 0;
            const char *group_name = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
            int container = open("/dev/vfio/vfio", O_RDWR);
            if (container < 0) return fail_setup("open", "/dev/vfio/vfio");
            if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) return fail_setup("VFIO API version", "/dev/vfio/vfio");
            snprintf(path, sizeof path, "/dev/vfio/%s", group_name);
            int group = open(path, O_RDWR);
            if (group < 0) return fail_setup("open", path);
            struct vfio_group_status status = { .argsz = sizeof status };
            if (ioctl(group, VFIO_GROUP_GET_STATUS, &status) < 0) return fail_setup("VFIO_GROUP_GET_STATUS", path);
            if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) { errno = EBUSY; return fail_setup("group not viable:", path); }
            if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0) return fail_setup("VFIO_GROUP_SET_CONTAINER", path);
            int type = ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0 ? VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU;
            if (ioctl(container, VFIO_SET_IOMMU, type) < 0) return fail_setup("VFIO_SET_IOMMU", "/dev/vfio/vfio");
            device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
            if (device < 0) return fail_setup("VFIO_GROUP_GET_DEVICE_FD", bdf);
            struct vfio_device_info info = { .argsz = sizeof info };
            if (ioctl(device, VFIO_DEVICE_GET_INFO, &info) < 0) return fail_setup("VFIO_DEVICE_GET_INFO", bdf);
            uint64_t bases[64]; int nb = 0;
            for (uint32_t i = 0; i < info.num_regions && i < 64; i++) {
                struct vfio_region_info r = { .argsz = sizeof r, .index = i };
                if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &r) < 0) continue;
                regions[i].present = 1; regions[i].offset = r.offset; regions[i].size = r.size;
                int dup = 0;
                for (int k = 0; k < nb; k++) dup |= bases[k] == r.offset;
                if (!dup) bases[nb++] = r.offset;
            }
            for (int a = 0; a < nb; a++)
                for (int b = 0; b < nb; b++)
                    if (bases[b] > bases[a] && bases[b] - bases[a] < span) span = bases[b] - bases[a];
            return 0;
        }

        /* The program's own write guard: a write is issued only inside its allow-list. */
        static int write_allowed(uint64_t off, size_t count) {
            if (count == 0) return 1;
            if (off >> 63) return 0;
            uint64_t index, pos;
            if (!model_region(off, &index, &pos)) return 0;
            uint64_t end = pos + count - 1;
            for (size_t k = 0; k < sizeof allowed / sizeof allowed[0]; k++)
                if (allowed[k].region == index && allowed[k].first <= pos && end <= allowed[k].last && end >= pos) return 1;
            return 0;
        }

        /* Whatever the device holds, a read must return the bytes an aligned re-read with
         * 8-byte loads returns for the same range (SPEC R-READ-1, R-READ-3). */
        static void wide_check(const struct step *s, size_t got, char *why, size_t size, int *ok) {
            static unsigned char wide[(1 << 20) + 16];
            uint64_t first = s->offset & ~7ULL, end = (s->offset + got + 7) & ~7ULL;
            if (end - first > sizeof wide || (s->offset >> 63)) return;
            ssize_t n = pread(device, wide, end - first, (off_t)to_kernel(first));
            if (n <= 0) return;  /* the aligned range may reach past the region: nothing to compare */
            for (size_t b = 0; b < got && s->offset - first + b < (size_t)n; b++)
                if (buf_of_step[b] != wide[s->offset - first + b]) {
                    *ok = 0;
                    snprintf(why, size, "byte %zu: 0x%02x, but an aligned 8-byte-wide read of the same range gives 0x%02x", b, buf_of_step[b], wide[s->offset - first + b]);
                    return;
                }
        }

        static const char *errname(int e) {
            switch (e) {
            case EPERM: return "EPERM"; case ENOENT: return "ENOENT"; case EIO: return "EIO"; case ENXIO: return "ENXIO";
            case ENOMEM: return "ENOMEM"; case EACCES: return "EACCES"; case EFAULT: return "EFAULT"; case EBUSY: return "EBUSY";
            case ENODEV: return "ENODEV"; case EINVAL: return "EINVAL"; case ENOTTY: return "ENOTTY"; case ESPIPE: return "ESPIPE";
            case EOVERFLOW: return "EOVERFLOW"; case EOPNOTSUPP: return "EOPNOTSUPP"; default: return "E?";
            }
        }

        static void describe(char *out, size_t size, enum expect kind, long long value, int err) {
            if (kind == EXP_ERRNO) snprintf(out, size, "%s", errname(err));
            else snprintf(out, size, "%lld", value);
            (void)kind;
        }

        int main(int argc, char **argv) {
            if (argc != 2) { fprintf(stderr, "usage: %s DDDD:BB:DD.F\\n", argv[0]); return 2; }
            printf("KTAP version 1\\n");
            printf("1..%zu\\n", NSTEPS);
            if (open_device(argv[1])) return 2;
            unsigned char *buf = buf_of_step;
            int failed = 0, failures = 0;
            size_t skipped = 0;
            for (size_t i = 0; i < NSTEPS; i++) {
                const struct step *s = &steps[i];
                char why[512] = "", want[64], got[64];
                long long r = 0; int e = 0; int ok = 1;
                if (s->kind == OP_SKIP) { printf("ok %zu %s # SKIP %s\\n", i + 1, s->name, skip_reason[i]); skipped++; continue; }
                if ((s->kind == OP_PWRITE && !write_allowed(s->offset, s->count)) || (s->kind == OP_WRITE && !write_allowed(position, s->count))) {
                    printf("ok %zu %s # SKIP refused here: outside the program's write allow-list\\n", i + 1, s->name); skipped++; continue;
                }
                memset(buf, GUARD_BYTE, s->count + GUARD);
                if (s->kind == OP_PWRITE || s->kind == OP_WRITE) memcpy(buf, pool + s->data, s->count);
                errno = 0;
                switch (s->kind) {
                case OP_PREAD: r = pread(device, buf, s->count, (off_t)to_kernel(s->offset)); break;
                case OP_PWRITE: r = pwrite(device, buf, s->count, (off_t)to_kernel(s->offset)); break;
                case OP_READ: r = read(device, buf, s->count); break;
                case OP_WRITE: r = write(device, buf, s->count); break;
                case OP_SEEK: {
                    long long target = s->whence == 0 && s->seek >= 0 ? (long long)to_kernel((uint64_t)s->seek) : s->seek;
                    r = lseek(device, (off_t)target, s->whence == 0 ? SEEK_SET : SEEK_CUR);
                    if (r >= 0) r = (long long)to_model((uint64_t)r);
                    break;
                }
                case OP_REGION_INFO: {
                    static unsigned char info[1 << 16];
                    memset(info, 0, sizeof info);
                    struct vfio_region_info *ri = (struct vfio_region_info *)info;
                    ri->argsz = s->argsz; ri->index = s->index;
                    r = ioctl(device, VFIO_DEVICE_GET_REGION_INFO, info);
                    if (r == 0 && s->expect == EXP_REGION) {
                        if (ri->offset != s->r_offset || ri->size != s->r_size || ((ri->flags ^ s->r_flags) & ~IGNORED_REGION_FLAGS)) {
                            ok = 0;
                            snprintf(why, sizeof why, "expected offset 0x%llx size 0x%llx flags 0x%x, got offset 0x%llx size 0x%llx flags 0x%x",
                                     (unsigned long long)s->r_offset, (unsigned long long)s->r_size, s->r_flags,
                                     (unsigned long long)ri->offset, (unsigned long long)ri->size, ri->flags);
                        }
                    } else if (r == 0 && s->expect == EXP_ERRNO) {
                        ok = 0;
                        snprintf(why, sizeof why, "expected %s, got offset 0x%llx size 0x%llx flags 0x%x", errname(s->err),
                                 (unsigned long long)ri->offset, (unsigned long long)ri->size, ri->flags);
                    }
                    break;
                }
                default: break;
                }
                if (r < 0) e = errno;
                if (s->kind != OP_REGION_INFO || r < 0) {
                    int agrees = s->expect == EXP_NONE
                        || (s->expect == EXP_VALUE && r >= 0 && r == s->value)
                        || (s->expect == EXP_ERRNO && r < 0 && e == s->err)
                        || (s->expect == EXP_REGION && r >= 0);
                    if (!agrees) {
                        ok = 0;
                        describe(want, sizeof want, s->expect, s->value, s->err);
                        describe(got, sizeof got, r < 0 ? EXP_ERRNO : EXP_VALUE, r, e);
                        snprintf(why, sizeof why, "expected %s, got %s", s->expect == EXP_REGION ? "region info" : want, got);
                    }
                }
                if (ok && (s->kind == OP_PREAD || s->kind == OP_READ)) {
                    for (size_t g = 0; g < GUARD; g++)
                        if (buf[s->count + g] != GUARD_BYTE) { ok = 0; snprintf(why, sizeof why, "byte %zu past the %zu-byte buffer was written", g, s->count); break; }
                    for (size_t k = 0; ok && k < s->span_count; k++) {
                        const struct span *sp = &spans[s->span_first + k];
                        for (size_t b = 0; b < sp->len; b++)
                            if (buf[sp->at + b] != pool[sp->pool + b]) {
                                ok = 0;
                                snprintf(why, sizeof why, "byte %zu: expected 0x%02x (written earlier), got 0x%02x", sp->at + b, pool[sp->pool + b], buf[sp->at + b]);
                                break;
                            }
                    }
                }
                if (ok && r > 0 && s->kind == OP_PREAD) wide_check(s, (size_t)r, why, sizeof why, &ok);
                if (s->kind == OP_READ || s->kind == OP_WRITE) { if (r > 0) position += (uint64_t)r; }
                else if (s->kind == OP_SEEK && r >= 0) position = (uint64_t)r;
                if (ok) printf("ok %zu %s\\n", i + 1, s->name);
                else { printf("not ok %zu %s\\n# %s\\n", i + 1, s->name, why); failed = 1; failures++; }
            }
            if (skipped == NSTEPS) fprintf(stderr, "every step was skipped: this program checked nothing\\n");
            printf("# %s\\n", failed ? "FAIL: the device differs from the model" : skipped == NSTEPS ? "SKIP: nothing could be checked" : "PASS: every check agrees with the model");
            printf("# Totals: pass:%zu fail:%d xfail:0 xpass:0 skip:%zu error:0\\n", NSTEPS - skipped - (size_t)failures, failures, skipped);
            return failed;
        }

        """
}

extension String {
    fileprivate func replacingAll(_ a: String, _ b: String) -> String {
        split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}
