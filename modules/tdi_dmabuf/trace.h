/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tracepoints of tdi_dmabuf: TDI state changes with their cause, the steps
 * of BIND, revocations and provider errors. Devices are named as in sysfs
 * (PCI address).
 *
 *   echo 1 > /sys/kernel/tracing/events/tdi_dmabuf/enable
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM tdi_dmabuf

#if !defined(_TDI_DMABUF_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TDI_DMABUF_TRACE_H

#include <linux/device.h>
#include <linux/tracepoint.h>
#include <uapi/linux/tdi_dmabuf.h>

#define tdi_dmabuf_show_state(s)					\
	__print_symbolic(s,						\
			 { TDI_DMABUF_STATE_UNBOUND, "unbound" },	\
			 { TDI_DMABUF_STATE_LOCKED, "locked" },		\
			 { TDI_DMABUF_STATE_RUN, "run" },		\
			 { TDI_DMABUF_STATE_ERROR, "error" })

#define tdi_dmabuf_show_cause(c)					\
	__print_symbolic(c,						\
			 { TDI_DMABUF_CAUSE_NONE, "none" },		\
			 { TDI_DMABUF_CAUSE_PROVIDER, "provider" },	\
			 { TDI_DMABUF_CAUSE_RESET, "reset" },		\
			 { TDI_DMABUF_CAUSE_MEMORY, "memory" },		\
			 { TDI_DMABUF_CAUSE_BIND, "bind" },		\
			 { TDI_DMABUF_CAUSE_UNBIND, "unbind" },		\
			 { TDI_DMABUF_CAUSE_CLOSE, "close" })

/* The TDI moved from @old to @state; @cause is the last revocation's. */
TRACE_EVENT(tdi_dmabuf_state,
	TP_PROTO(struct device *dev, u32 old, u32 state, u32 cause),
	TP_ARGS(dev, old, state, cause),
	TP_STRUCT__entry(
		__string(dev, dev_name(dev))
		__field(u32, old)
		__field(u32, state)
		__field(u32, cause)
	),
	TP_fast_assign(
		__assign_str_compat(dev, dev_name(dev));
		__entry->old = old;
		__entry->state = state;
		__entry->cause = cause;
	),
	TP_printk("%s %s -> %s cause=%s", __get_str(dev),
		  tdi_dmabuf_show_state(__entry->old),
		  tdi_dmabuf_show_state(__entry->state),
		  tdi_dmabuf_show_cause(__entry->cause))
);

/*
 * A step of BIND (provider_bind, get_report, parse, start) or of UNBIND
 * (provider_unbind) and its result; a non-zero @err is a provider error.
 */
TRACE_EVENT(tdi_dmabuf_step,
	TP_PROTO(struct device *dev, const char *step, int err),
	TP_ARGS(dev, step, err),
	TP_STRUCT__entry(
		__string(dev, dev_name(dev))
		__string(step, step)
		__field(int, err)
	),
	TP_fast_assign(
		__assign_str_compat(dev, dev_name(dev));
		__assign_str_compat(step, step);
		__entry->err = err;
	),
	TP_printk("%s %s err=%d", __get_str(dev), __get_str(step),
		  __entry->err)
);

/* Every open DMA-BUF was revoked (@n newly); @err: -ETIMEDOUT if in use. */
TRACE_EVENT(tdi_dmabuf_revoke,
	TP_PROTO(struct device *dev, unsigned int n, u32 cause, int err),
	TP_ARGS(dev, n, cause, err),
	TP_STRUCT__entry(
		__string(dev, dev_name(dev))
		__field(unsigned int, n)
		__field(u32, cause)
		__field(int, err)
	),
	TP_fast_assign(
		__assign_str_compat(dev, dev_name(dev));
		__entry->n = n;
		__entry->cause = cause;
		__entry->err = err;
	),
	TP_printk("%s revoked=%u cause=%s err=%d", __get_str(dev), __entry->n,
		  tdi_dmabuf_show_cause(__entry->cause), __entry->err)
);

#endif /* _TDI_DMABUF_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
