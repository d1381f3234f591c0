/* pid 1 of the box: start the command, forward signals to it, reap every
 * orphan, and exit with the command's status (128+N for signal N). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/util.h"
#include "internal.h"

extern char **environ;

static const int forwarded[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT, SIGWINCH,
                                SIGUSR1, SIGUSR2, SIGCONT, SIGTSTP};

/* Deliver to the command's process group, as a terminal would.  The group
 * has no terminal, so the kernel would drop SIGTSTP: stop it for real. */
static void forward(pid_t cmd, int sig)
{
        if (sig == SIGTSTP)
                sig = SIGSTOP;
        if (kill(-cmd, sig) < 0)
                kill(cmd, sig);
}

static _Noreturn void exec_command(const struct box_spec *spec, int err_fd,
                                   const sigset_t *old)
{
        for (int s = 1; s < NSIG; s++)
                signal(s, SIG_DFL);
        sigprocmask(SIG_SETMASK, old, NULL);
        /* A new session: the command has no controlling terminal, so it
         * cannot push input into the caller's (TIOCSTI). */
        if (setsid() < 0) {
                int e = errno;
                (void)!write(err_fd, &e, sizeof(e));
                _exit(EXIT_AGENTBOX);
        }
        /* execvp searches the PATH of the environment in force, so put the
         * box's in force first. */
        environ = spec->envp;
        execvp(spec->argv[0], spec->argv);
        int e = errno;
        (void)!write(err_fd, &e, sizeof(e));
        _exit(EXIT_NOTFOUND);
}

/* Wait for the exec to succeed (the CLOEXEC pipe closes) or report why it
 * failed.  Returns 0 or the exit status to leave with. */
static int check_exec(const struct box_spec *spec, int rd)
{
        int e = 0;
        ssize_t n;
        do
                n = read(rd, &e, sizeof(e));
        while (n < 0 && errno == EINTR);
        close(rd);
        if (n != sizeof(e))
                return 0;
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

void box_init_run(const struct box_spec *spec)
{
        sigset_t set, old;
        sigemptyset(&set);
        for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
                sigaddset(&set, forwarded[i]);
        sigaddset(&set, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &set, &old) < 0)
                box_die_errno(errno, "sigprocmask");

        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                box_die_errno(errno, "pipe");
        pid_t cmd = fork();
        if (cmd < 0)
                box_die_errno(errno, "fork");
        if (cmd == 0) {
                close(pfd[0]);
                exec_command(spec, pfd[1], &old);
        }
        close(pfd[1]);
        int failed = check_exec(spec, pfd[0]);

        int status = EXIT_AGENTBOX;
        bool done = false;
        while (!done) {
                siginfo_t si;
                int sig = sigwaitinfo(&set, &si);
                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        forward(cmd, sig);
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
        _exit(failed ? failed : status);
}
