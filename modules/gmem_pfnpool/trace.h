/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tracepoints of gmem_pfnpool: conversions and punches (start, veto,
 * commit), faults (the order installed) and DMA-BUF exports and revokes.
 * Files are named by inode number (as in /proc/<pid>/fdinfo and debugfs),
 * ranges in pages.
 *
 *   echo 1 > /sys/kernel/tracing/events/gmem_pfnpool/enable
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM gmem_pfnpool

#if !defined(_GMEM_PFNPOOL_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _GMEM_PFNPOOL_TRACE_H

#include <linux/gmem_pfnpool.h>
#include <linux/tracepoint.h>

TRACE_DEFINE_ENUM(GMEM_PFNPOOL_EVENT_TO_SHARED);
TRACE_DEFINE_ENUM(GMEM_PFNPOOL_EVENT_TO_PRIVATE);
TRACE_DEFINE_ENUM(GMEM_PFNPOOL_EVENT_PUNCH);

#define gmem_pfnpool_show_event(e)					\
	__print_symbolic(e,						\
			 { GMEM_PFNPOOL_EVENT_TO_SHARED, "to_shared" },	\
			 { GMEM_PFNPOOL_EVENT_TO_PRIVATE, "to_private" },	\
			 { GMEM_PFNPOOL_EVENT_PUNCH, "punch" })

DECLARE_EVENT_CLASS(gmem_pfnpool_inv_class,
	TP_PROTO(u64 ino, const struct gmem_pfnpool_range *range),
	TP_ARGS(ino, range),
	TP_STRUCT__entry(
		__field(u64, ino)
		__field(u64, start)
		__field(u64, end)
		__field(int, event)
	),
	TP_fast_assign(
		__entry->ino = ino;
		__entry->start = range->start;
		__entry->end = range->end;
		__entry->event = range->event;
	),
	TP_printk("ino=%llu pages=[%llu,%llu) %s",
		  __entry->ino, __entry->start, __entry->end,
		  gmem_pfnpool_show_event(__entry->event))
);

/* A conversion or punch starts: its users are about to be asked. */
DEFINE_EVENT(gmem_pfnpool_inv_class, gmem_pfnpool_inv_start,
	TP_PROTO(u64 ino, const struct gmem_pfnpool_range *range),
	TP_ARGS(ino, range)
);

/* Every user agreed and committed; the change is applied. */
DEFINE_EVENT(gmem_pfnpool_inv_class, gmem_pfnpool_inv_commit,
	TP_PROTO(u64 ino, const struct gmem_pfnpool_range *range),
	TP_ARGS(ino, range)
);

/* A user refused: those that prepared are aborted, nothing changed. */
TRACE_EVENT(gmem_pfnpool_inv_veto,
	TP_PROTO(u64 ino, const struct gmem_pfnpool_range *range,
		 const char *user, u64 index, int err),
	TP_ARGS(ino, range, user, index, err),
	TP_STRUCT__entry(
		__field(u64, ino)
		__field(u64, start)
		__field(u64, end)
		__field(int, event)
		__string(user, user)
		__field(u64, index)
		__field(int, err)
	),
	TP_fast_assign(
		__entry->ino = ino;
		__entry->start = range->start;
		__entry->end = range->end;
		__entry->event = range->event;
		__assign_str_compat(user, user);
		__entry->index = index;
		__entry->err = err;
	),
	TP_printk("ino=%llu pages=[%llu,%llu) %s user=%s index=%llu err=%d",
		  __entry->ino, __entry->start, __entry->end,
		  gmem_pfnpool_show_event(__entry->event), __get_str(user),
		  __entry->index, __entry->err)
);

/* A fault of a mapping: the order asked for, and what was installed. */
TRACE_EVENT(gmem_pfnpool_fault,
	TP_PROTO(u64 ino, u64 index, unsigned int order, unsigned int ret),
	TP_ARGS(ino, index, order, ret),
	TP_STRUCT__entry(
		__field(u64, ino)
		__field(u64, index)
		__field(unsigned int, order)
		__field(unsigned int, ret)
	),
	TP_fast_assign(
		__entry->ino = ino;
		__entry->index = index;
		__entry->order = order;
		__entry->ret = ret;
	),
	TP_printk("ino=%llu index=%llu order=%u ret=%#x",
		  __entry->ino, __entry->index, __entry->order, __entry->ret)
);

DECLARE_EVENT_CLASS(gmem_pfnpool_dmabuf_class,
	TP_PROTO(u64 ino, u64 dmabuf_ino, u64 start, u64 end),
	TP_ARGS(ino, dmabuf_ino, start, end),
	TP_STRUCT__entry(
		__field(u64, ino)
		__field(u64, dmabuf_ino)
		__field(u64, start)
		__field(u64, end)
	),
	TP_fast_assign(
		__entry->ino = ino;
		__entry->dmabuf_ino = dmabuf_ino;
		__entry->start = start;
		__entry->end = end;
	),
	TP_printk("ino=%llu dmabuf=%llu pages=[%llu,%llu)",
		  __entry->ino, __entry->dmabuf_ino, __entry->start,
		  __entry->end)
);

/* A shared range was exported as a DMA-BUF. */
DEFINE_EVENT(gmem_pfnpool_dmabuf_class, gmem_pfnpool_dmabuf_export,
	TP_PROTO(u64 ino, u64 dmabuf_ino, u64 start, u64 end),
	TP_ARGS(ino, dmabuf_ino, start, end)
);

/* An export was revoked by a conversion or punch of its range. */
DEFINE_EVENT(gmem_pfnpool_dmabuf_class, gmem_pfnpool_dmabuf_revoke,
	TP_PROTO(u64 ino, u64 dmabuf_ino, u64 start, u64 end),
	TP_ARGS(ino, dmabuf_ino, start, end)
);

#endif /* _GMEM_PFNPOOL_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
