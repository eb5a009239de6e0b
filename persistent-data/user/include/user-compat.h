/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel names on top of libc, so that the persistent-data library compiles
 * unchanged in userspace (see pd-compat.h). Only what the library uses is
 * here; semantics follow the kernel where it matters (min()/max() refuse
 * mixed types, kmalloc_array() checks for overflow, down_read_trylock()
 * returns 1 on success).
 *
 * The host is assumed little-endian, like the x86_64 kernel we build for.
 */
#ifndef PD_USER_COMPAT_H
#define PD_USER_COMPAT_H

#include <errno.h>
#include <endian.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "persistent-data userspace build assumes a little-endian host"
#endif

/* ---- types ----
 * The kernel's own UAPI types (unsigned long long for 64 bits, as in the
 * kernel), so that %llu and friends mean the same in both builds.
 */
#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;

typedef u64 sector_t;
typedef unsigned int gfp_t;

#define U8_MAX		((u8)~0U)
#define U16_MAX		((u16)~0U)
#define U32_MAX		((u32)~0U)
#define U64_MAX		((u64)~0ULL)
#define S32_MAX		((s32)(U32_MAX >> 1))
#define S64_MAX		((s64)(U64_MAX >> 1))

/* ---- attributes and compiler helpers ---- */
#define __packed		__attribute__((packed))
#define __aligned(x)		__attribute__((aligned(x)))
#define __must_check		__attribute__((warn_unused_result))
#define __maybe_unused		__attribute__((unused))
#define __always_unused		__attribute__((unused))
#ifndef __always_inline
#define __always_inline		inline __attribute__((always_inline))
#endif
#define noinline		__attribute__((noinline))
#define __printf(a, b)		__attribute__((format(printf, a, b)))
#define fallthrough		__attribute__((__fallthrough__))
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define READ_ONCE(x)		(*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile typeof(x) *)&(x) = (v))
#define EXPORT_SYMBOL(s)
#define EXPORT_SYMBOL_GPL(s)

#define BUILD_BUG_ON(cond)	_Static_assert(!(cond), "BUILD_BUG_ON: " #cond)

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define round_up(x, y)		((((x) - 1) | ((__typeof__(x))((y) - 1))) + 1)
#define round_down(x, y)	((x) & ~((__typeof__(x))((y) - 1)))
#define BIT(n)			(1UL << (n))
#define BIT_ULL(n)		(1ULL << (n))
#define BITS_PER_LONG		64

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* Like the kernel's: comparing distinct types is a (fatal) warning. */
#define __pd_cmp(x, y, op) ({				\
	typeof(x) __x = (x);				\
	typeof(y) __y = (y);				\
	(void)(&__x == &__y);				\
	__x op __y ? __x : __y; })
#define min(x, y)		__pd_cmp(x, y, <)
#define max(x, y)		__pd_cmp(x, y, >)
#define min_t(t, x, y)		__pd_cmp((t)(x), (t)(y), <)
#define max_t(t, x, y)		__pd_cmp((t)(x), (t)(y), >)
#define clamp(v, lo, hi)	min(max(v, lo), hi)
#define clamp_t(t, v, lo, hi)	min_t(t, max_t(t, v, lo), hi)
#define swap(a, b) do {					\
	typeof(a) __tmp = (a); (a) = (b); (b) = __tmp;	\
} while (0)

/* 64-bit division: plain in userspace, same names as the kernel. */
#define do_div(n, base) ({				\
	u32 __base = (base);				\
	u32 __rem = (u32)((n) % __base);		\
	(n) /= __base;					\
	__rem; })
static inline u64 div_u64(u64 n, u32 d) { return n / d; }
static inline u64 div64_u64(u64 n, u64 d) { return n / d; }
static inline u64 div_u64_rem(u64 n, u32 d, u32 *rem)
{
	*rem = n % d;
	return n / d;
}

/* ---- byte order (host is little-endian) ---- */
#define cpu_to_le16(x)		((__le16)(u16)(x))
#define cpu_to_le32(x)		((__le32)(u32)(x))
#define cpu_to_le64(x)		((__le64)(u64)(x))
#define le16_to_cpu(x)		((u16)(x))
#define le32_to_cpu(x)		((u32)(x))
#define le64_to_cpu(x)		((u64)(x))
#define cpu_to_be32(x)		((__be32)htobe32(x))
#define cpu_to_be64(x)		((__be64)htobe64(x))
#define be32_to_cpu(x)		((u32)be32toh(x))
#define be64_to_cpu(x)		((u64)be64toh(x))

static inline void le32_add_cpu(__le32 *var, u32 val)
{
	*var = cpu_to_le32(le32_to_cpu(*var) + val);
}

static inline void le64_add_cpu(__le64 *var, u64 val)
{
	*var = cpu_to_le64(le64_to_cpu(*var) + val);
}

static inline u32 get_unaligned_le32(const void *p)
{
	u32 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline u64 get_unaligned_le64(const void *p)
{
	u64 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void put_unaligned_le32(u32 v, void *p)
{
	memcpy(p, &v, sizeof(v));
}

static inline void put_unaligned_le64(u64 v, void *p)
{
	memcpy(p, &v, sizeof(v));
}

/* ---- little-endian bit operations (as on x86_64) ---- */
static inline int test_bit_le(unsigned long nr, const void *addr)
{
	const u8 *p = addr;

	return (p[nr >> 3] >> (nr & 7)) & 1;
}

static inline void __set_bit_le(unsigned long nr, void *addr)
{
	u8 *p = addr;

	p[nr >> 3] |= (u8)(1U << (nr & 7));
}

static inline void __clear_bit_le(unsigned long nr, void *addr)
{
	u8 *p = addr;

	p[nr >> 3] &= (u8)~(1U << (nr & 7));
}

static inline int hweight64(u64 w) { return __builtin_popcountll(w); }
static inline int hweight32(u32 w) { return __builtin_popcount(w); }

/* ---- errors in pointers ---- */
#define MAX_ERRNO	4095
#define IS_ERR_VALUE(x)	unlikely((unsigned long)(void *)(x) >= \
				 (unsigned long)-MAX_ERRNO)

static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE(ptr); }
static inline bool IS_ERR_OR_NULL(const void *ptr)
{
	return !ptr || IS_ERR_VALUE(ptr);
}
static inline void *ERR_CAST(const void *ptr) { return (void *)ptr; }
static inline int PTR_ERR_OR_ZERO(const void *ptr)
{
	return IS_ERR(ptr) ? (int)PTR_ERR(ptr) : 0;
}

/* ---- memory ---- */
#define GFP_KERNEL	0x01u
#define GFP_NOIO	0x02u
#define GFP_NOFS	0x04u
#define GFP_NOWAIT	0x08u
#define GFP_ATOMIC	0x10u
#define __GFP_NOWARN	0x100u
#define __GFP_ZERO	0x200u

static inline void *kmalloc(size_t size, gfp_t flags)
{
	return (flags & __GFP_ZERO) ? calloc(1, size) : malloc(size);
}

static inline void *kzalloc(size_t size, gfp_t flags)
{
	return calloc(1, size);
}

static inline void *kmalloc_array(size_t n, size_t size, gfp_t flags)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return kmalloc(bytes, flags);
}

static inline void *kcalloc(size_t n, size_t size, gfp_t flags)
{
	return calloc(n, size);
}

static inline void *krealloc(const void *p, size_t size, gfp_t flags)
{
	return realloc((void *)p, size);
}

static inline void kfree(const void *p)
{
	free((void *)p);
}

#define kvmalloc(size, flags)		kmalloc(size, flags)
#define kvzalloc(size, flags)		kzalloc(size, flags)
#define kvmalloc_array(n, s, flags)	kmalloc_array(n, s, flags)
#define kvcalloc(n, s, flags)		kcalloc(n, s, flags)
#define vmalloc(size)			malloc(size)
#define vzalloc(size)			calloc(1, size)
#define vfree(p)			free(p)
#define kvfree(p)			kfree(p)
#define kfree_sensitive(p)		kfree(p)

static inline char *kstrdup(const char *s, gfp_t flags)
{
	return s ? strdup(s) : NULL;
}

/* ---- logging ---- */
#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif

#define KERN_ERR	""
#define KERN_WARNING	""
#define KERN_INFO	""
#define KERN_DEBUG	""

#define printk(fmt, ...)	fprintf(stderr, fmt, ##__VA_ARGS__)
#define pr_err(fmt, ...)	fprintf(stderr, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...)	fprintf(stderr, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_notice(fmt, ...)	fprintf(stderr, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...)	fprintf(stderr, pr_fmt(fmt), ##__VA_ARGS__)
/* Quiet, but the format is still checked. */
#define pr_debug(fmt, ...) do {						\
	if (0)								\
		fprintf(stderr, pr_fmt(fmt), ##__VA_ARGS__);		\
} while (0)
#define pr_err_ratelimited(fmt, ...)	pr_err(fmt, ##__VA_ARGS__)
#define pr_warn_ratelimited(fmt, ...)	pr_warn(fmt, ##__VA_ARGS__)
#define pr_warn_once(fmt, ...)		pr_warn(fmt, ##__VA_ARGS__)

#define BUG() do {							\
	fprintf(stderr, "BUG at %s:%d\n", __FILE__, __LINE__);		\
	abort();							\
} while (0)
#define BUG_ON(cond) do {						\
	if (unlikely(cond)) {						\
		fprintf(stderr, "BUG_ON(%s) at %s:%d\n", #cond,		\
			__FILE__, __LINE__);				\
		abort();						\
	}								\
} while (0)
#define WARN_ON(cond) ({						\
	bool __w = !!(cond);						\
	if (unlikely(__w))						\
		fprintf(stderr, "WARNING: %s at %s:%d\n", #cond,	\
			__FILE__, __LINE__);				\
	__w; })
#define WARN_ON_ONCE(cond)	WARN_ON(cond)
#define WARN(cond, fmt, ...) ({						\
	bool __w = !!(cond);						\
	if (unlikely(__w))						\
		fprintf(stderr, "WARNING: " fmt, ##__VA_ARGS__);	\
	__w; })

/* ---- scheduling and locking ---- */
#define cond_resched()		do { } while (0)
#define might_sleep()		do { } while (0)
#define lockdep_assert_held(l)	do { (void)(l); } while (0)

struct rw_semaphore {
	pthread_rwlock_t lock;
};

static inline void init_rwsem(struct rw_semaphore *s)
{
	pthread_rwlock_init(&s->lock, NULL);
}

static inline void down_read(struct rw_semaphore *s)
{
	pthread_rwlock_rdlock(&s->lock);
}

static inline int down_read_trylock(struct rw_semaphore *s)
{
	return pthread_rwlock_tryrdlock(&s->lock) == 0;
}

static inline void up_read(struct rw_semaphore *s)
{
	pthread_rwlock_unlock(&s->lock);
}

static inline void down_write(struct rw_semaphore *s)
{
	pthread_rwlock_wrlock(&s->lock);
}

static inline int down_write_trylock(struct rw_semaphore *s)
{
	return pthread_rwlock_trywrlock(&s->lock) == 0;
}

static inline void up_write(struct rw_semaphore *s)
{
	pthread_rwlock_unlock(&s->lock);
}

struct mutex {
	pthread_mutex_t lock;
};

#define DEFINE_MUTEX(m) struct mutex m = { PTHREAD_MUTEX_INITIALIZER }

static inline void mutex_init(struct mutex *m)
{
	pthread_mutex_init(&m->lock, NULL);
}

static inline void mutex_lock(struct mutex *m)
{
	pthread_mutex_lock(&m->lock);
}

static inline int mutex_trylock(struct mutex *m)
{
	return pthread_mutex_trylock(&m->lock) == 0;
}

static inline void mutex_unlock(struct mutex *m)
{
	pthread_mutex_unlock(&m->lock);
}

static inline void mutex_destroy(struct mutex *m)
{
	pthread_mutex_destroy(&m->lock);
}

typedef struct {
	pthread_mutex_t lock;
} spinlock_t;

static inline void spin_lock_init(spinlock_t *l)
{
	pthread_mutex_init(&l->lock, NULL);
}

static inline void spin_lock(spinlock_t *l)
{
	pthread_mutex_lock(&l->lock);
}

static inline void spin_unlock(spinlock_t *l)
{
	pthread_mutex_unlock(&l->lock);
}

#define spin_lock_irqsave(l, flags)	do { (void)(flags); spin_lock(l); } while (0)
#define spin_unlock_irqrestore(l, flags) do { (void)(flags); spin_unlock(l); } while (0)

/* ---- CRC32C (Castagnoli, reflected, no final inversion) ---- */
u32 crc32c(u32 seed, const void *data, unsigned int len);

/* ---- lists ---- */
struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name) { &(name), &(name) }
#define LIST_HEAD(name) struct list_head name = LIST_HEAD_INIT(name)

static inline void INIT_LIST_HEAD(struct list_head *l)
{
	l->next = l;
	l->prev = l;
}

static inline void __list_link(struct list_head *n, struct list_head *prev,
			       struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

static inline void list_add(struct list_head *n, struct list_head *head)
{
	__list_link(n, head, head->next);
}

static inline void list_add_tail(struct list_head *n, struct list_head *head)
{
	__list_link(n, head->prev, head);
}

static inline void list_del(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	e->next = NULL;
	e->prev = NULL;
}

static inline void list_del_init(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	INIT_LIST_HEAD(e);
}

static inline void list_move(struct list_head *e, struct list_head *head)
{
	list_del(e);
	list_add(e, head);
}

static inline void list_move_tail(struct list_head *e, struct list_head *head)
{
	list_del(e);
	list_add_tail(e, head);
}

static inline int list_empty(const struct list_head *head)
{
	return head->next == head;
}

#define list_entry(ptr, type, member)	container_of(ptr, type, member)
#define list_first_entry(head, type, member) \
	list_entry((head)->next, type, member)
#define list_last_entry(head, type, member) \
	list_entry((head)->prev, type, member)
#define list_next_entry(pos, member) \
	list_entry((pos)->member.next, typeof(*(pos)), member)
#define list_for_each(pos, head) \
	for (pos = (head)->next; pos != (head); pos = pos->next)
#define list_for_each_entry(pos, head, member)				\
	for (pos = list_first_entry(head, typeof(*pos), member);	\
	     &pos->member != (head);					\
	     pos = list_next_entry(pos, member))
#define list_for_each_entry_safe(pos, n, head, member)			\
	for (pos = list_first_entry(head, typeof(*pos), member),	\
	     n = list_next_entry(pos, member);				\
	     &pos->member != (head);					\
	     pos = n, n = list_next_entry(n, member))

#endif
