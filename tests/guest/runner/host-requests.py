#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
#
# Host side of the guest's request port: answers requests that in-guest tests
# make through /lib/cchost/host.sh while QEMU runs. Started by qemu_boot
# (scripts/qemu.sh) before QEMU, which connects the guest's second serial port
# (ttyS1) to REQUEST_SOCKET; it acts through QEMU's QMP socket.
#
#   host-requests.py REQUEST_SOCKET QMP_SOCKET LOG MAX_SECONDS
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


def main():
    if len(sys.argv) != 5:
        sys.stderr.write(
            'usage: host-requests.py REQUEST_SOCKET QMP_SOCKET LOG MAX_SECONDS\n')
        return 2
    req_path, qmp_path, log_path, max_s = sys.argv[1:]
    deadline = time.monotonic() + float(max_s)
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
        left = deadline - time.monotonic()
        if left <= 0:
            note('time limit reached')
            break
        conn.settimeout(min(left, 5.0))
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
