// SPDX-License-Identifier: GPL-2.0-only
/*
 * cchostctl gmem: a file created, allocated, converted, punched and
 * exported and held until SIGTERM while this test looks at /proc/PID/fd,
 * fdinfo and the pool (used memory rose by what the file holds, unload is
 * refused naming the process), then released with the memory back; the
 * text form ended by SIGINT, a timed hold; failures (pool too small, export
 * of private memory) end at once without holding; a conversion vetoed by
 * the test user names it (gmem use on a file of this test).
 */
#include "cli_test.h"

#include <sys/ioctl.h>
#include <linux/gmem_pfnpool.h>

#define MIB		(1024LL * 1024)
#define TU_CTL		"/sys/kernel/debug/gmem_pfnpool_testuser/ctl"

static int tu_ctl(const char *cmd)
{
	return sysfs_write(TU_CTL, cmd);
}

/* The target of /proc/@pid/fd/@fd, or "". */
static const char *fd_target(int pid, long long fd)
{
	static char buf[256];
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%lld", pid, fd);
	n = readlink(path, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static const char *read_fdinfo(int pid, long long fd)
{
	static char buf[2048];
	char path[64];
	int f;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%lld", pid, fd);
	f = open(path, O_RDONLY);
	if (f < 0)
		return "";
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static void held_file(void)
{
	static const char * const argv[] = {
		CLI, "--json", "gmem", "create", "64M", "--allocate", "0:8M",
		"--convert", "6M:2M:private", "--punch", "2M:2M", "--export", "0:2M",
		"--export", "4M:2M", "--hold-until-signal", NULL,
	};
	long long used0 = sysnum(POOL "/used"), fd, e1, e2;
	struct bg b;
	struct jnode *j;
	char want[64];
	int st;

	ok(bg_start(&b, argv) == 0, "gmem create 64M, allocate, convert, punch, export x2, hold");
	if (!ok(bg_read_line(&b, 60) == 0, "  one line of JSON while holding")) {
		bg_abandon(&b);
		return;
	}
	j = json_parse(b.line);
	fd = jnum(j, "fd");
	e1 = jnum(j, "operations.3.fd");
	e2 = jnum(j, "operations.4.fd");
	ok(j && jbool(j, "ok") == 1 && jnum(j, "pid") == b.pid && fd >= 3 &&
	   jnum(j, "size") == 64 * MIB && jbool(j, "created") == 1 &&
	   jbool(j, "hold.until_signal") == 1,
	   "  JSON: ok, pid %lld, fd %lld, size 64 MiB, created, hold until signal",
	   jnum(j, "pid"), fd);
	ok(jlen(j, "operations") == 5 &&
	   !strcmp(jstr(j, "operations.0.op"), "allocate") &&
	   !strcmp(jstr(j, "operations.1.op"), "convert") &&
	   !strcmp(jstr(j, "operations.1.attr"), "private") &&
	   !strcmp(jstr(j, "operations.2.op"), "punch") &&
	   !strcmp(jstr(j, "operations.3.op"), "export") &&
	   jnum(j, "operations.2.offset") == 2 * MIB &&
	   jnum(j, "operations.2.length") == 2 * MIB &&
	   jbool(j, "operations.0.ok") == 1 && jbool(j, "operations.4.ok") == 1 &&
	   e1 >= 3 && e2 >= 3 && e1 != e2 && e1 != fd && e2 != fd &&
	   jnum(j, "operations.3.inode") > 0,
	   "  operations in order, all ok, DMA-BUF fds %lld and %lld", e1, e2);
	ok(jlen(j, "attributes") == 3 &&
	   jnum(j, "attributes.0.offset") == 0 && jnum(j, "attributes.0.size") == 6 * MIB &&
	   !strcmp(jstr(j, "attributes.0.attr"), "shared") &&
	   jnum(j, "attributes.1.offset") == 6 * MIB &&
	   !strcmp(jstr(j, "attributes.1.attr"), "private") &&
	   jnum(j, "attributes.2.offset") == 8 * MIB &&
	   jnum(j, "attributes.2.size") == 56 * MIB,
	   "  attributes: shared 0-6M, private 6-8M, shared 8-64M");
	/* A punch commits through the same two-phase protocol: 2 conversions. */
	ok(jnum(j, "allocated") == 6 * MIB && jnum(j, "stats.conversions") == 2 &&
	   jnum(j, "stats.vetoes") == 0,
	   "  allocated 6 MiB (8 allocated, 2 punched): %lld; conversions (convert, punch) %lld",
	   jnum(j, "allocated"), jnum(j, "stats.conversions"));

	snprintf(want, sizeof(want), "size:\t%lld", 2 * MIB);
	ok(!!strstr(fd_target(b.pid, fd), "gmem"),
	   "  /proc/%d/fd/%lld is the gmem file (%s)", b.pid, fd, fd_target(b.pid, fd));
	ok(strstr(fd_target(b.pid, e1), "dmabuf") &&
	   strstr(read_fdinfo(b.pid, e1), "exp_name:\tgmem_pfnpool") &&
	   strstr(read_fdinfo(b.pid, e2), want),
	   "  /proc/%d/fd/%lld and %lld are its 2 MiB DMA-BUFs (fdinfo)", b.pid, e1, e2);
	ok(sysnum(POOL "/used") == used0 + 6 * MIB,
	   "  pool used rose by 6 MiB (%lld -> %lld)", used0, sysnum(POOL "/used"));
	runf(CLI " --json status");
	ok(jnum(json_parse(r.out), "pool.used") == used0 + 6 * MIB,
	   "  status --json shows it too");
	snprintf(want, sizeof(want), "pid %d (cchostctl)", b.pid);
	runf(CLI " unload gmem_pfnpool");
	if (!ok(r.status == 1 && strstr(r.err, want) && strstr(r.err, "(EBUSY)"),
		"  unload refused naming %s", want))
		show_run();

	kill(b.pid, SIGTERM);
	st = bg_wait(&b, 20);
	bg_read_rest(&b);
	ok(st == 0, "SIGTERM ends the hold cleanly (exit status %d)", st);
	ok(strchr(b.line, '\n') == b.line + strlen(b.line) - 1,
	   "  nothing more on stdout after the JSON object");
	ok(wait_used(used0, 10) == used0, "  the memory came back (used %lld)",
	   sysnum(POOL "/used"));
	bg_close(&b);
}

static void text_and_sigint(void)
{
	static const char * const argv[] = {
		CLI, "gmem", "create", "2M", "--allocate", "0:2M", "--hold-until-signal", NULL,
	};
	long long used0 = sysnum(POOL "/used");
	char want[64];
	struct bg b;
	int st;

	ok(bg_start(&b, argv) == 0, "text: gmem create 2M --allocate 0:2M --hold-until-signal");
	bg_read_until(&b, "holding until", 60);
	snprintf(want, sizeof(want), "pid %d", b.pid);
	if (!ok(strstr(b.line, want) && strstr(b.line, "allocate 0x0+0x200000: ok") &&
		strstr(b.line, "allocated 2 MiB") && strstr(b.line, "holding until"),
		"  prints its pid, the operation, the allocation and the hold"))
		diag("got: %s", b.line);
	ok(sysnum(POOL "/used") == used0 + 2 * MIB, "  pool used rose by 2 MiB");
	kill(b.pid, SIGINT);
	st = bg_wait(&b, 20);
	bg_read_rest(&b);
	ok(st == 0 && strstr(b.line, "released on INT"),
	   "  SIGINT: 'released on INT', exit status %d", st);
	ok(wait_used(used0, 10) == used0, "  the memory came back");
	bg_close(&b);
}

static void timed_hold(void)
{
	static const char * const argv[] = {
		CLI, "--json", "gmem", "create", "4M", "--allocate", "0:4M", "--hold", "2", NULL,
	};
	long long used0 = sysnum(POOL "/used");
	time_t t0 = time(NULL);
	struct bg b;
	int st;

	bg_start(&b, argv);
	ok(bg_read_line(&b, 30) == 0 && jnum(json_parse(b.line), "hold.seconds") == 2,
	   "--hold 2: JSON says hold.seconds 2");
	ok(sysnum(POOL "/used") == used0 + 4 * MIB, "  4 MiB used meanwhile");
	st = bg_wait(&b, 30);
	ok(st == 0 && time(NULL) - t0 >= 2, "  ends by itself after %lld s, status %d",
	   (long long)(time(NULL) - t0), st);
	ok(wait_used(used0, 10) == used0, "  the memory came back");
	bg_close(&b);
}

static void failures(void)
{
	static const char * const argv[] = {
		CLI, "--json", "gmem", "create", "4M", "--private", "--export", "0:2M",
		"--hold-until-signal", NULL,
	};
	long long used0 = sysnum(POOL "/used");
	struct jnode *j;
	struct bg b;
	int st;

	runf(CLI " --json gmem create 2G");
	j = json_parse(r.out);
	ok(r.status == 1 && !strcmp(jstr(j, "error.errno_name"), "ENOSPC") &&
	   strstr(jstr(j, "error.hint"), "the whole pool is"),
	   "a file larger than the pool: ENOSPC, the pool size in the hint");

	bg_start(&b, argv);
	st = bg_wait(&b, 20);
	bg_read_rest(&b);
	j = json_parse(b.line);
	if (!ok(st == 1 && jbool(j, "ok") == 0 && jbool(j, "operations.0.ok") == 0 &&
		!strcmp(jstr(j, "operations.0.errno_name"), "EINVAL") &&
		strstr(jstr(j, "error.message"), "export 0x0+0x200000: bad range") &&
		strstr(jstr(j, "error.hint"), "all shared"),
		"export of a private range: EINVAL, no hold, status 1 at once"))
		diag("status %d, stdout %s", st, b.line);
	ok(wait_used(used0, 10) == used0, "  nothing left allocated");
	bg_close(&b);
}

static void vetoed_conversion(void)
{
	struct gmem_pfnpool_create c = { .size = 4 * MIB };
	struct gmem_pfnpool_get_attr ga = { .offset = 2 * MIB };
	struct jnode *j;
	int dev, fd, nul;
	char cmd[64];

	ok(run_modload("gmem_pfnpool_testuser") == 0, "load gmem_pfnpool_testuser");
	dev = open("/dev/gmem_pfnpool", O_RDWR | O_CLOEXEC);
	fd = ioctl(dev, GMEM_PFNPOOL_IOC_CREATE, &c);
	snprintf(cmd, sizeof(cmd), "attach %d", fd);
	ok(fd >= 0 && !tu_ctl(cmd) && !tu_ctl("veto 1"),
	   "a 4 MiB file of this test, the test user attached and refusing");
	/* The tool inherits the file. */
	fcntl(fd, F_SETFD, 0);

	j = json_parse((runf(CLI " --json gmem use %d --convert 2M:2M:private", fd), r.out));
	if (!ok(r.status == 1 && jbool(j, "ok") == 0 && jbool(j, "created") == 0 &&
		jnum(j, "size") == 4 * MIB &&
		!strcmp(jstr(j, "operations.0.errno_name"), "EBUSY") &&
		!strcmp(jstr(j, "operations.0.error_user"), "testuser") &&
		jnum(j, "operations.0.error_offset") == 2 * MIB,
		"gmem use: vetoed convert: EBUSY, error_user testuser, error_offset 2 MiB"))
		show_run();
	ok(!strncmp(jstr(j, "error.message"), "convert 0x200000+0x200000 to private: ", 38) &&
	   !strcmp(jstr(j, "error.message") + 38,
		   "refused by user \"testuser\" at offset 0x200000"),
	   "  the message names the user and the offset");
	runf(CLI " gmem use %d --convert 2M:2M:private", fd);
	ok(r.status == 1 && strstr(r.err, "refused by user \"testuser\"") &&
	   strstr(r.err, "(EBUSY)"), "  text: on stderr with EBUSY");
	ok(ioctl(fd, GMEM_PFNPOOL_IOC_GET_ATTR, &ga) == 0 &&
	   ga.attr == GMEM_PFNPOOL_ATTR_SHARED, "  the range stayed shared");

	tu_ctl("veto 0");
	j = json_parse((runf(CLI " --json gmem use %d --convert 2M:2M:private", fd), r.out));
	ok(r.status == 0 && jlen(j, "attributes") == 2 &&
	   !strcmp(jstr(j, "attributes.1.attr"), "private") &&
	   ioctl(fd, GMEM_PFNPOOL_IOC_GET_ATTR, &ga) == 0 &&
	   ga.attr == GMEM_PFNPOOL_ATTR_PRIVATE,
	   "once the user agrees, the conversion is done on this test's file");

	nul = open("/dev/null", O_RDONLY);
	runf(CLI " gmem use %d --punch 0:4K", nul);
	ok(r.status == 1 && strstr(r.err, "is not a gmem file") && strstr(r.err, "(ENOTTY)"),
	   "gmem use of /dev/null: not a gmem file (ENOTTY)");
	close(nul);
	runf(CLI " gmem use 200");
	ok(r.status == 1 && strstr(r.err, "(EBADF)"), "gmem use of a closed fd: EBADF");

	tu_ctl("detach");
	close(fd);
	close(dev);
	ok(run_modload("-r gmem_pfnpool_testuser") == 0, "unload gmem_pfnpool_testuser");
}

int main(void)
{
	if (!ok(run_modload("gmem_pfnpool ranges=" GUEST_RANGES) == 0, "load gmem_pfnpool"))
		return tap_done();
	held_file();
	text_and_sigint();
	timed_hold();
	failures();
	vetoed_conversion();
	ok(run_modload("-r gmem_pfnpool") == 0, "unload gmem_pfnpool");
	return tap_done();
}
