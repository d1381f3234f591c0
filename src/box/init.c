/* pid 1 of the box: start the command, forward signals to it, reap every
 * orphan, and exit with the command's status (128+N for signal N). */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "internal.h"

extern char **environ;

static const int forwarded[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT, SIGWINCH,
                                SIGUSR1, SIGUSR2, SIGCONT, SIGTSTP};

/* Deliver to the command's process group, as a terminal would, and with
 * the box's own terminal to its foreground job too (a shell's job, in a
 * group of its own).  SIGTSTP stops for real: the kernel would drop it
 * for a group that has no terminal, and a job may catch it. */
static void forward(pid_t cmd, int tty, int sig)
{
        if (sig == SIGTSTP)
                sig = SIGSTOP;
        if (kill(-cmd, sig) < 0)
                kill(cmd, sig);
        pid_t fg = tty >= 0 ? tcgetpgrp(tty) : -1;
        if (fg > 1 && fg != cmd)
                kill(-fg, sig);
}

/* Why the command could not start, said as the caller would want it;
 * returns the exit status to leave with. */
static int exec_failed(const struct box_spec *spec, int e)
{
        const char *cmd = spec->argv[0];
        if (e == ENOENT) {
                const char *path = box_env_get(spec->envp, "PATH");
                dprintf(STDERR_FILENO,
                        "agentbox: %s: command not found inside the box "
                        "(PATH=%s); the box sees only /usr, /etc, /opt and the "
                        "workspace %s: install it there or give its path\n",
                        cmd, path ? path : "", spec->policy->workspace);
                return EXIT_NOTFOUND;
        }
        dprintf(STDERR_FILENO, "agentbox: cannot run %s inside the box: %s\n",
                cmd, strerror(e));
        return e == EACCES || e == ENOEXEC || e == EISDIR ? EXIT_NOEXEC
                                                           : EXIT_AGENTBOX;
}

/* The command, started without copying init's memory (posix_spawn runs
 * the child on init's pages until it execs): every signal back to its
 * default, init's mask undone.  With the box's own terminal, the command
 * leads the foreground process group of it, in init's session (so it has
 * /dev/tty and job control); without, a new session with no controlling
 * terminal at all.  PATH is searched in the box's environment.  Returns
 * the command's pid, or -1 with the exit status to leave with in
 * *failed. */
static pid_t start_command(const struct box_spec *spec, const sigset_t *old,
                           int *failed)
{
        posix_spawnattr_t attr;
        posix_spawn_file_actions_t fa;
        /* every signal, glibc's own two (32 and 33) too, which
         * sigfillset leaves out and posix_spawn would leave ignored */
        sigset_t all;
        memset(&all, 0xff, sizeof(all));
        bool pty = spec->pty_slave >= 0;
        /* neither fails in glibc (they set fields) */
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_init(&fa);
        int e = posix_spawnattr_setflags(
            &attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
                       (pty ? POSIX_SPAWN_SETPGROUP : POSIX_SPAWN_SETSID));
        if (e == 0 && pty)
                e = posix_spawn_file_actions_addtcsetpgrp_np(&fa,
                                                             spec->pty_slave);
        if (e == 0)
                e = posix_spawnattr_setsigdefault(&attr, &all);
        if (e == 0)
                e = posix_spawnattr_setsigmask(&attr, old);
        pid_t cmd = -1;
        if (e == 0) {
                /* posix_spawnp searches the PATH of the environment in
                 * force, so put the box's in force first */
                environ = spec->envp;
                e = posix_spawnp(&cmd, spec->argv[0], &fa, &attr, spec->argv,
                                 spec->envp);
        }
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (e != 0) {
                *failed = exec_failed(spec, e);
                return -1;
        }
        return cmd;
}

/* The command is done: end what is left of the box (the kernel would, as
 * init exits), reap it all, and tell the supervisor that nothing of the
 * box runs any more.  It may then clear up (the placeholders) while this
 * process's exit tears the box's mounts down.  Only init holds the
 * socket; the supervisor checks what it is told all the same. */
static void tell_quiet(int sync_fd, int code)
{
        if (sync_fd < 0)
                return;
        (void)kill(-1, SIGKILL);
        while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
                ;
        if (errno != ECHILD)
                return;
        char msg[2] = {'X', (char)code};
        (void)send(sync_fd, msg, sizeof(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
}

void box_init_run(const struct box_spec *spec)
{
        sigset_t set, old;
        sigemptyset(&set);
        for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
                sigaddset(&set, forwarded[i]);
        sigaddset(&set, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &set, &old) < 0)
                box_die_errno(errno, "sigprocmask");

        /* the walls proven before an agent exists (selftest.c) */
        if (spec->selftest != BOX_SELFTEST_OFF) {
                int f = box_selftest(spec);
                if (f || spec->selftest == BOX_SELFTEST_SHOW) {
                        tell_quiet(spec->sync_fd, f ? EXIT_AGENTBOX : 0);
                        _exit(f ? EXIT_AGENTBOX : 0);
                }
        }
        int failed = 0;
        pid_t cmd = start_command(spec, &old, &failed);
        if (cmd > 0)
                box_limits_data_late(&spec->limits, cmd);
        int status = EXIT_AGENTBOX;
        bool done = cmd < 0;
        while (!done) {
                siginfo_t si;
                int sig = sigwaitinfo(&set, &si);
                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        forward(cmd, spec->pty_slave, sig);
                        continue;
                }
                int ws;
                pid_t p;
                while ((p = waitpid(-1, &ws, WNOHANG)) > 0) {
                        if (p != cmd)
                                continue;
                        status = WIFEXITED(ws) ? WEXITSTATUS(ws)
                                               : 128 + WTERMSIG(ws);
                        done = true;
                }
                if (p < 0 && errno == ECHILD)
                        done = true;
        }
        int code = failed ? failed : status;
        tell_quiet(spec->sync_fd, code);
        _exit(code);
}
