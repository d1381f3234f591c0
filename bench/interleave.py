#!/usr/bin/env python3
# Interleaved start-up timing: each command once in turn, N times (plus 10
# warm-ups), reversed every other round; prints medians and quartiles and
# the ratio to the first command.  Commands are separated by ";;"; leading
# NAME=VALUE words set the environment of that command.
#   bench/interleave.py 400 BASE run --net off -- /bin/true ";;" build/agentbox run --net off -- /bin/true
# Runs that come in blocks (hyperfine) share their asynchronous teardown
# (netns cleanup, RCU) with the next run of the same command; one at a
# time, every command sees the same.
import os, sys, time, statistics as st
# usage: ab.py N cmd1 ;; cmd2 ;; cmd3   (commands separated by ';;')
N=int(sys.argv[1]); args=sys.argv[2:]
cmds=[]; cur=[]
for a in args:
    if a==';;': cmds.append(cur); cur=[]
    else: cur.append(a)
cmds.append(cur)
dn=os.open('/dev/null', os.O_RDWR)
fa=[(os.POSIX_SPAWN_DUP2, dn, 0),(os.POSIX_SPAWN_DUP2, dn, 1)]
envs=[]
for i,c in enumerate(cmds):
    e=dict(os.environ)
    while c and '=' in c[0] and not c[0].startswith('/'):
        k,v=c.pop(0).split('=',1); e[k]=v
    envs.append(e)
ts=[[] for _ in cmds]
for i in range(N+10):
    order=list(range(len(cmds)))
    if i%2: order.reverse()
    for k in order:
        t0=time.perf_counter_ns()
        pid=os.posix_spawn(cmds[k][0], cmds[k], envs[k], file_actions=fa)
        os.waitpid(pid,0)
        if i>=10: ts[k].append((time.perf_counter_ns()-t0)/1e6)
base=st.median(ts[0])
for k,c in enumerate(cmds):
    m=st.median(ts[k]); q=st.quantiles(ts[k],n=4)
    print(f"{m:6.3f} ms (q1 {q[0]:.3f} q3 {q[2]:.3f}) x{m/base:.3f}  {' '.join(c)[:90]}")
