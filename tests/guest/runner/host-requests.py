#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
#
# Host side of the guest's request port: answers requests that in-guest tests
# make through /lib/cchost/host.sh while QEMU runs. Started by qemu_boot
# (scripts/qemu.sh) before QEMU, which connects the guest's second serial port
# (ttyS1) to REQUEST_SOCKET; it acts through QEMU's QMP socket.
#
#   host-requests.py REQUEST_SOCKET QMP_SOCKET LOG MAX_SECONDS
#                    [SAMPLE_AT_SECONDS [SYSTEM_MAP]]
#
# Protocol, one line each way (guest userspace only: the kernel's console is
# ttyS0, so kernel messages never reach this port):
#
#   guest: @@cchost host ping TOKEN
#   guest: @@cchost host aer QEMU_DEVICE_ID ERROR_NAME TOKEN
#   host:  @@cchost host-reply TOKEN ok|err TEXT
#
# "aer" runs the monitor command "pcie_aer_inject_error QEMU_DEVICE_ID
# ERROR_NAME" and answers "ok" only if QEMU reports the injection ("OK id:");
# an unknown device or error name gets "err" with QEMU's message. Requests are
# handled one at a time, in order. A line that is not a well-formed request is
# logged and left unanswered, so its sender times out.
#
# Exits when QEMU closes the port (QEMU exited), when QEMU has not connected
# within 120 s, or after MAX_SECONDS.
#
# A guest still running SAMPLE_AT_SECONDS after the start is taken for hung
# (its timeout is near): where every vCPU is is sampled SAMPLES times through
# the monitor ("info registers -a"), each instruction pointer named from
# SYSTEM_MAP (the guest runs with nokaslr), and logged as "vCPU sample"
# lines, for a hang that prints nothing on the console.

import bisect
import json
import os
import re
import socket
import sys
import time

REQUEST_RE = re.compile(
    r'^@@cchost host (?:'
    r'(?P<ping>ping)'
    r'|(?P<aer>aer) (?P<dev>[A-Za-z][A-Za-z0-9_.-]{0,31}) (?P<err>[A-Za-z0-9_]{1,32})'
    r') (?P<token>[A-Za-z0-9]{4,32})$')
QMP_TIMEOUT = 15
SAMPLES = 5
SAMPLE_GAP = 2.0
CPU_RE = re.compile(r'^CPU#(\d+)', re.M)
RIP_RE = re.compile(r'RIP=([0-9a-f]+) .*CPL=(\d)(?: .*HLT=(\d))?')


class Qmp:
    """A QMP connection, opened on first use."""

    def __init__(self, path):
        self.path = path
        self.sock = None
        self.file = None

    def _open(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(QMP_TIMEOUT)
        sock.connect(self.path)
        self.sock = sock
        self.file = sock.makefile('rw', encoding='utf-8', newline='\n')
        greeting = json.loads(self.file.readline())
        if 'QMP' not in greeting:
            raise OSError('no QMP greeting')
        self.execute('qmp_capabilities')

    def execute(self, cmd, args=None):
        if self.sock is None:
            self._open()
        msg = {'execute': cmd}
        if args:
            msg['arguments'] = args
        self.file.write(json.dumps(msg) + '\n')
        self.file.flush()
        while True:
            line = self.file.readline()
            if not line:
                raise OSError('QMP connection closed')
            reply = json.loads(line)
            if 'event' in reply:
                continue
            if 'error' in reply:
                raise OSError(reply['error'].get('desc', 'QMP error'))
            return reply.get('return')

    def hmp(self, command_line):
        return self.execute('human-monitor-command',
                            {'command-line': command_line})


def load_map(path):
    """Text symbols of a System.map, sorted: ([addresses], [names])."""
    syms = []
    try:
        with open(path, encoding='ascii', errors='replace') as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[1] in 'tTwW':
                    syms.append((int(parts[0], 16), parts[2]))
    except (OSError, ValueError):
        return [], []
    syms.sort()
    return [a for a, _ in syms], [n for _, n in syms]


def symbolize(table, addr):
    """name+0xoff of a kernel text address, or '?'."""
    addrs, names = table
    i = bisect.bisect_right(addrs, addr) - 1
    if i < 0 or addr - addrs[i] > 0x100000:
        return '?'
    return '%s+%#x' % (names[i], addr - addrs[i])


def describe_cpus(regs, table):
    """One line for an "info registers -a" output: each vCPU's place."""
    out = []
    starts = [(m.start(), m.group(1)) for m in CPU_RE.finditer(regs)]
    for k, (pos, cpu) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(regs)
        m = RIP_RE.search(regs, pos, end)
        if not m:
            out.append('CPU%s ?' % cpu)
            continue
        rip = int(m.group(1), 16)
        if m.group(2) == '3':
            where = 'user'
        elif table[0]:
            where = symbolize(table, rip)
        else:
            where = 'kernel'
        if m.group(3) == '1':
            where += ', halted'
        out.append('CPU%s %#x %s' % (cpu, rip, where))
    return ' | '.join(out) if out else 'no vCPU in the monitor output'


def handle(qmp, m):
    """Run one request; returns (ok, text)."""
    if m.group('ping'):
        return True, 'pong'
    cmd = 'pcie_aer_inject_error %s %s' % (m.group('dev'), m.group('err'))
    try:
        out = qmp.hmp(cmd).replace('\r', '').strip()
    except (OSError, ValueError) as e:
        return False, 'monitor: %s' % e
    first = out.splitlines()[0] if out else ''
    return first.startswith('OK id:'), first or 'no output'


def sample(qmp, map_path, elapsed, note):
    """Log where the vCPUs of a guest that seems hung are."""
    table = load_map(map_path) if map_path else ([], [])
    note('guest still running after %d s: vCPU samples (symbols: %s)' % (
        elapsed, map_path if table[0] else 'none'))
    for k in range(SAMPLES):
        try:
            regs = qmp.hmp('info registers -a').replace('\r', '')
        except (OSError, ValueError) as e:
            note('vCPU sample %d: monitor: %s' % (k + 1, e))
            return
        note('vCPU sample %d: %s' % (k + 1, describe_cpus(regs, table)))
        time.sleep(SAMPLE_GAP)


def main():
    if len(sys.argv) not in (5, 6, 7):
        sys.stderr.write(
            'usage: host-requests.py REQUEST_SOCKET QMP_SOCKET LOG MAX_SECONDS'
            ' [SAMPLE_AT_SECONDS [SYSTEM_MAP]]\n')
        return 2
    req_path, qmp_path, log_path, max_s = sys.argv[1:5]
    start = time.monotonic()
    deadline = start + float(max_s)
    sample_s = float(sys.argv[5]) if len(sys.argv) > 5 else 0
    sample_at = start + sample_s if sample_s > 0 else None
    map_path = sys.argv[6] if len(sys.argv) > 6 else ''
    log = open(log_path, 'w', encoding='utf-8', buffering=1)

    def note(text):
        log.write('%s %s\n' % (time.strftime('%H:%M:%S'), text))

    try:
        os.unlink(req_path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(req_path)
    srv.listen(1)
    srv.settimeout(120)
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        note('QEMU did not connect')
        return 1
    srv.close()
    note('QEMU connected')
    qmp = Qmp(qmp_path)
    buf = b''
    while True:
        now = time.monotonic()
        left = deadline - now
        if left <= 0:
            note('time limit reached')
            break
        if sample_at is not None and now >= sample_at:
            sample_at = None
            sample(qmp, map_path, now - start, note)
            continue
        wait = min(left, 5.0)
        if sample_at is not None:
            wait = max(0.1, min(wait, sample_at - now))
        conn.settimeout(wait)
        try:
            data = conn.recv(4096)
        except socket.timeout:
            continue
        if not data:
            note('QEMU closed the port')
            break
        buf += data
        while b'\n' in buf:
            raw, buf = buf.split(b'\n', 1)
            line = raw.decode('ascii', 'replace').strip('\r\x00 ')
            if not line:
                continue
            m = REQUEST_RE.match(line)
            if not m:
                note('ignored: %r' % line[:200])
                continue
            ok, text = handle(qmp, m)
            note('%s -> %s %s' % (line, 'ok' if ok else 'err', text))
            reply = '@@cchost host-reply %s %s %s\n' % (
                m.group('token'), 'ok' if ok else 'err', text)
            try:
                conn.sendall(reply.encode('ascii', 'replace'))
            except OSError:
                note('QEMU closed the port')
                return 0
        if len(buf) > 4096:
            note('ignored: overlong line')
            buf = b''
    return 0


if __name__ == '__main__':
    sys.exit(main())
