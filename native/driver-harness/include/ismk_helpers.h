/*
 * ismk_helpers.h: the common helpers real kernels give every driver, as user-space stand-ins
 * with the kernel's meaning on either host byte order: byte-order conversions, bit masks,
 * alignment and rounding, overflow-checked sizes, more allocators, mutexes and spinlocks (real
 * locks: the harness may run a driver from two threads), scoped guards, warnings and BUG_ON,
 * logging, and attribute spellings. Included by ismk_kernel.h after its basic types.
 */
#ifndef ISMK_HELPERS_H
#define ISMK_HELPERS_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

/* --- attribute spellings ---------------------------------------------------------------- */
#define __always_inline inline __attribute__((__always_inline__))
#define noinline __attribute__((__noinline__))
#define __maybe_unused __attribute__((__unused__))
#define __always_unused __attribute__((__unused__))
#define __packed __attribute__((__packed__))
#define __aligned(x) __attribute__((__aligned__(x)))
#define __printf(a, b) __attribute__((__format__(printf, a, b)))
#define __force
#define __rcu
#define __read_mostly
#define __counted_by(m)
#define fallthrough __attribute__((__fallthrough__))
#define __stringify_1(x) #x
#define __stringify(x) __stringify_1(x)
#define ISMK_CAT_(a, b) a##b
#define ISMK_CAT(a, b) ISMK_CAT_(a, b)
#define __UNIQUE_ID(p) ISMK_CAT(__UNIQUE_ID_##p, __COUNTER__)

/* --- fixed-endian types and byte-order conversions --------------------------------------- */
#include <linux/types.h> /* the system's uapi __u8..__s64, __le16..__be64 (per architecture) */
typedef u64 phys_addr_t;
typedef u64 dma_addr_t;

#define swab16(x) ((u16)__builtin_bswap16((u16)(x)))
#define swab32(x) ((u32)__builtin_bswap32((u32)(x)))
#define swab64(x) ((u64)__builtin_bswap64((u64)(x)))
#define __swab16(x) swab16(x)
#define __swab32(x) swab32(x)
#define __swab64(x) swab64(x)

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define __LITTLE_ENDIAN 1234
#define cpu_to_le16(x) ((__le16)(u16)(x))
#define cpu_to_le32(x) ((__le32)(u32)(x))
#define cpu_to_le64(x) ((__le64)(u64)(x))
#define cpu_to_be16(x) ((__be16)swab16(x))
#define cpu_to_be32(x) ((__be32)swab32(x))
#define cpu_to_be64(x) ((__be64)swab64(x))
#else
#define __BIG_ENDIAN 4321
#define cpu_to_le16(x) ((__le16)swab16(x))
#define cpu_to_le32(x) ((__le32)swab32(x))
#define cpu_to_le64(x) ((__le64)swab64(x))
#define cpu_to_be16(x) ((__be16)(u16)(x))
#define cpu_to_be32(x) ((__be32)(u32)(x))
#define cpu_to_be64(x) ((__be64)(u64)(x))
#endif
/* Each conversion is its own inverse. */
#define le16_to_cpu(x) ((u16)cpu_to_le16(x))
#define le32_to_cpu(x) ((u32)cpu_to_le32(x))
#define le64_to_cpu(x) ((u64)cpu_to_le64(x))
#define be16_to_cpu(x) ((u16)cpu_to_be16(x))
#define be32_to_cpu(x) ((u32)cpu_to_be32(x))
#define be64_to_cpu(x) ((u64)cpu_to_be64(x))
#define le16_to_cpup(p) le16_to_cpu(*(const __le16 *)(p))
#define le32_to_cpup(p) le32_to_cpu(*(const __le32 *)(p))
#define le64_to_cpup(p) le64_to_cpu(*(const __le64 *)(p))

/* --- bits ------------------------------------------------------------------------------- */
#define BITS_PER_BYTE 8
#define BITS_PER_LONG (__SIZEOF_LONG__ * 8)
#define BITS_PER_LONG_LONG 64
#define BIT(nr) (1UL << (nr))
#define BIT_ULL(nr) (1ULL << (nr))
#define GENMASK(h, l) (((~0UL) << (l)) & (~0UL >> (BITS_PER_LONG - 1 - (h))))
#define GENMASK_ULL(h, l) (((~0ULL) << (l)) & (~0ULL >> (BITS_PER_LONG_LONG - 1 - (h))))
#define FIELD_PREP(mask, val) (((__typeof__(mask))(val) << __builtin_ctzll(mask)) & (mask))
#define FIELD_GET(mask, reg) ((__typeof__(mask))(((reg) & (mask)) >> __builtin_ctzll(mask)))
#define upper_32_bits(n) ((u32)(((u64)(n)) >> 32))
#define lower_32_bits(n) ((u32)((n) & 0xffffffffu))
#define hweight32(x) __builtin_popcount((u32)(x))
#define hweight64(x) __builtin_popcountll((u64)(x))
#define is_power_of_2(n) ((n) != 0 && (((n) & ((n) - 1)) == 0))

/* --- alignment, rounding, min/max --------------------------------------------------------- */
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define PTR_ALIGN(p, a) ((__typeof__(p))ALIGN((uintptr_t)(p), (a)))
#define PAGE_ALIGN(x) ALIGN((x), PAGE_SIZE)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define offset_in_page(p) ((unsigned long)(p) & ~PAGE_MASK)
#define __round_mask(x, y) ((__typeof__(x))((y) - 1))
#define round_up(x, y) ((((x) - 1) | __round_mask(x, y)) + 1)
#define round_down(x, y) ((x) & ~__round_mask(x, y))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define umin(a, b) min((unsigned long long)(a), (unsigned long long)(b))
#define umax(a, b) max((unsigned long long)(a), (unsigned long long)(b))
#define min3(a, b, c) min(min(a, b), c)
#define max3(a, b, c) max(max(a, b), c)
#define clamp(v, lo, hi) min(max(v, lo), hi)
#define clamp_t(t, v, lo, hi) clamp((t)(v), (t)(lo), (t)(hi))
#define clamp_val(v, lo, hi) clamp_t(__typeof__(v), v, lo, hi)
#define swap(a, b) do { __typeof__(a) _ismk_t = (a); (a) = (b); (b) = _ismk_t; } while (0)
#define sizeof_field(T, m) sizeof(((T *)0)->m)
#define offsetofend(T, m) (offsetof(T, m) + sizeof_field(T, m))

/* --- overflow-checked sizes (saturate at SIZE_MAX as the kernel's do) ------------------- */
#define check_add_overflow(a, b, d) __builtin_add_overflow(a, b, d)
#define check_sub_overflow(a, b, d) __builtin_sub_overflow(a, b, d)
#define check_mul_overflow(a, b, d) __builtin_mul_overflow(a, b, d)
static inline size_t size_mul(size_t a, size_t b)
{
	size_t r;
	return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}
static inline size_t size_add(size_t a, size_t b)
{
	size_t r;
	return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r;
}
#define array_size(a, b) size_mul(a, b)
#define array3_size(a, b, c) size_mul(size_mul(a, b), c)
#define flex_array_size(p, member, n) size_mul(n, sizeof(*(p)->member))
#define struct_size(p, member, n) size_add(sizeof(*(p)), flex_array_size(p, member, n))

/* --- more allocators (all through kmalloc/kfree, so they are accounted) ------------------ */
void *kmalloc(size_t size, gfp_t flags);
void *kzalloc(size_t size, gfp_t flags);
void kfree(const void *obj);
#define kmalloc_array(n, size, flags) kmalloc(array_size(n, size), flags)
#define kcalloc(n, size, flags) kzalloc(array_size(n, size), flags)
#define kvmalloc(size, flags) kmalloc(size, flags)
#define kvzalloc(size, flags) kzalloc(size, flags)
#define kvcalloc(n, size, flags) kcalloc(n, size, flags)
#define kvfree(p) kfree(p)
#define kfree_sensitive(p) kfree(p)
static inline void *kmemdup(const void *src, size_t len, gfp_t flags)
{
	void *p = kmalloc(len, flags);
	if (p)
		memcpy(p, src, len);
	return p;
}

/* --- locks ------------------------------------------------------------------------------ */
struct mutex {
	pthread_mutex_t m;
};
#define __MUTEX_INITIALIZER(name) { PTHREAD_MUTEX_INITIALIZER }
#define DEFINE_MUTEX(name) struct mutex name = __MUTEX_INITIALIZER(name)
#define mutex_init(l) pthread_mutex_init(&(l)->m, NULL)
#define mutex_destroy(l) pthread_mutex_destroy(&(l)->m)
#define mutex_lock(l) pthread_mutex_lock(&(l)->m)
#define mutex_lock_interruptible(l) (pthread_mutex_lock(&(l)->m), 0)
#define mutex_trylock(l) (pthread_mutex_trylock(&(l)->m) == 0)
#define mutex_unlock(l) pthread_mutex_unlock(&(l)->m)
typedef struct {
	pthread_mutex_t m;
} spinlock_t;
#define __SPIN_LOCK_UNLOCKED(name) { PTHREAD_MUTEX_INITIALIZER }
#define DEFINE_SPINLOCK(name) spinlock_t name = __SPIN_LOCK_UNLOCKED(name)
#define spin_lock_init(l) pthread_mutex_init(&(l)->m, NULL)
#define spin_lock(l) pthread_mutex_lock(&(l)->m)
#define spin_unlock(l) pthread_mutex_unlock(&(l)->m)
#define spin_lock_irq(l) spin_lock(l)
#define spin_unlock_irq(l) spin_unlock(l)
#define spin_lock_bh(l) spin_lock(l)
#define spin_unlock_bh(l) spin_unlock(l)
#define spin_lock_irqsave(l, flags) do { (flags) = 0; spin_lock(l); } while (0)
#define spin_unlock_irqrestore(l, flags) do { (void)(flags); spin_unlock(l); } while (0)
#define lockdep_assert_held(l) ((void)(l))
struct rw_semaphore {
	pthread_rwlock_t l;
};
#define init_rwsem(s) pthread_rwlock_init(&(s)->l, NULL)
#define down_read(s) pthread_rwlock_rdlock(&(s)->l)
#define up_read(s) pthread_rwlock_unlock(&(s)->l)
#define down_write(s) pthread_rwlock_wrlock(&(s)->l)
#define up_write(s) pthread_rwlock_unlock(&(s)->l)

/* guard(mutex)(&l); scoped_guard(spinlock, &l) { ... }: released when the scope ends. */
struct ismk_guard_mutex { struct mutex *l; };
static inline struct ismk_guard_mutex ismk_guard_mutex_enter(struct mutex *l) { mutex_lock(l); return (struct ismk_guard_mutex){ l }; }
static inline void ismk_guard_mutex_exit(struct ismk_guard_mutex *g) { if (g->l) mutex_unlock(g->l); }
struct ismk_guard_spinlock { spinlock_t *l; };
static inline struct ismk_guard_spinlock ismk_guard_spinlock_enter(spinlock_t *l) { spin_lock(l); return (struct ismk_guard_spinlock){ l }; }
static inline void ismk_guard_spinlock_exit(struct ismk_guard_spinlock *g) { if (g->l) spin_unlock(g->l); }
#define ismk_guard_spinlock_irqsave_enter ismk_guard_spinlock_enter
#define ismk_guard_spinlock_irqsave_exit ismk_guard_spinlock_exit
#define ismk_guard_spinlock_irqsave ismk_guard_spinlock
#define guard(type) \
	struct ismk_guard_##type __attribute__((cleanup(ismk_guard_##type##_exit))) __UNIQUE_ID(guard) = ismk_guard_##type##_enter
#define scoped_guard(type, ...)                                                                   \
	for (struct ismk_guard_##type _ismk_scope __attribute__((cleanup(ismk_guard_##type##_exit))) = \
		     ismk_guard_##type##_enter(__VA_ARGS__), *_ismk_once = &_ismk_scope;             \
	     _ismk_once; _ismk_once = NULL)

/* --- atomics ---------------------------------------------------------------------------- */
typedef struct { int counter; } atomic_t;
#define ATOMIC_INIT(i) { (i) }
#define atomic_read(v) __atomic_load_n(&(v)->counter, __ATOMIC_SEQ_CST)
#define atomic_set(v, i) __atomic_store_n(&(v)->counter, (i), __ATOMIC_SEQ_CST)
#define atomic_inc(v) ((void)__atomic_add_fetch(&(v)->counter, 1, __ATOMIC_SEQ_CST))
#define atomic_dec(v) ((void)__atomic_sub_fetch(&(v)->counter, 1, __ATOMIC_SEQ_CST))
#define atomic_inc_return(v) __atomic_add_fetch(&(v)->counter, 1, __ATOMIC_SEQ_CST)
#define atomic_dec_and_test(v) (__atomic_sub_fetch(&(v)->counter, 1, __ATOMIC_SEQ_CST) == 0)

/* --- warnings, BUG, logging -------------------------------------------------------------- */
/* BUG()/BUG_ON() end the harness with a BROKEN report (a kernel oops). */
void ismk_bug(const char *cond, const char *file, int line) __attribute__((noreturn));
#define BUG() ismk_bug("BUG()", __FILE__, __LINE__)
#define BUG_ON(c) do { if (unlikely(c)) ismk_bug("BUG_ON(" #c ")", __FILE__, __LINE__); } while (0)
#define WARN(c, ...) ({ int _ismk_w = !!(c); if (_ismk_w) fprintf(stderr, __VA_ARGS__); _ismk_w; })
#define WARN_ONCE(c, ...) WARN(c, __VA_ARGS__)
#define pr_notice(...) ((void)0)
#define pr_err_ratelimited(...) pr_err(__VA_ARGS__)
#define pr_warn_ratelimited(...) pr_warn(__VA_ARGS__)
#define pr_info_ratelimited(...) ((void)0)
#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif
#define dev_err(dev, ...) ((void)(dev), fprintf(stderr, __VA_ARGS__))
#define dev_warn(dev, ...) ((void)(dev), fprintf(stderr, __VA_ARGS__))
#define dev_info(dev, ...) ((void)(dev))
#define dev_dbg(dev, ...) ((void)(dev))
#define dev_err_ratelimited(dev, ...) dev_err(dev, __VA_ARGS__)
#define dev_warn_ratelimited(dev, ...) dev_warn(dev, __VA_ARGS__)
#define pci_err(pdev, ...) ((void)(pdev), fprintf(stderr, __VA_ARGS__))
#define pci_warn(pdev, ...) ((void)(pdev), fprintf(stderr, __VA_ARGS__))
#define pci_info(pdev, ...) ((void)(pdev))
#define pci_dbg(pdev, ...) ((void)(pdev))

#endif /* ISMK_HELPERS_H */
