#!/usr/bin/env bats
# The workspace cannot carry code to the host: what the host's git, agents
# and editors run later is read-only in the box and can be neither made,
# removed, renamed nor replaced.  Each test attacks from inside the box and
# then checks from the host, with the host's own tools.

load helpers

GIT="git -c user.email=t@example.invalid -c user.name=t -c init.defaultBranch=main -c protocol.file.allow=always"

# A repository in $WS with one commit, an executable pre-commit hook that
# only records that it ran, a project .claude/settings.json and .vscode.
mkrepo() {
        $GIT -C "$WS" init -q
        echo hello >"$WS/README"
        $GIT -C "$WS" add README probe
        $GIT -C "$WS" commit -qm init
        HOOKLOG="$BATS_TEST_TMPDIR/hook.log"
        # (it runs in the box too, at the box's commits, where the log's
        # directory does not exist)
        printf '#!/bin/sh\n{ echo user-hook >>%s; } 2>/dev/null\nexit 0\n' "$HOOKLOG" >"$WS/.git/hooks/pre-commit"
        chmod +x "$WS/.git/hooks/pre-commit"
        mkdir -p "$WS/.claude" "$WS/.vscode"
        echo '{"hooks":{}}' >"$WS/.claude/settings.json"
        echo '{}' >"$WS/.vscode/settings.json"
        CANARY="$BATS_TEST_TMPDIR/host-ran-box-code"
        SUMS_BEFORE=$(sums)
}

# mksub: a repository to add as a submodule; sets SUB.
mksub() {
        SUB=$(mktemp -d "${TMPDIR:-/tmp}/absub.XXXXXX")
        CLEANUP+=("rm -rf '$SUB'")
        $GIT -C "$SUB" init -q
        $GIT -C "$SUB" commit -q --allow-empty -m sub
}

# Checksums of everything the host's tools run from the project.
sums() {
        (cd "$WS" && find .git/hooks .git/config .claude .vscode -type f -print0 2>/dev/null |
                sort -z | xargs -0 sha256sum)
}

# After the box: host git runs nothing the box wrote, the agent settings
# did not change.
host_runs_nothing_of_the_box() {
        [ "$(sums)" = "$SUMS_BEFORE" ]
        $GIT -C "$WS" status --short >/dev/null
        $GIT -C "$WS" hook run pre-commit
        echo change >>"$WS/README"
        $GIT -C "$WS" commit -qam "host commit"
        [ ! -e "$CANARY" ]
        # the user's own hook ran, twice (hook run, commit), nothing else
        [ "$(cat "$HOOKLOG")" = "$(printf 'user-hook\nuser-hook')" ]
}

@test "git's config and hooks: the box cannot write them, and host git runs nothing of the box's" {
        mkrepo
        run box -- sh -c "
                git config core.fsmonitor 'touch $CANARY; false' && echo CONFIG-WRITTEN
                git config core.hooksPath /tmp && echo HOOKSPATH-WRITTEN
                printf '#!/bin/sh\ntouch $CANARY\n' > .git/hooks/pre-commit && echo HOOK-WRITTEN
                printf '#!/bin/sh\ntouch $CANARY\n' > .git/hooks/post-checkout && echo NEW-HOOK
                chmod 777 .git/hooks/pre-commit && echo CHMOD
                rm -f .git/hooks/pre-commit && echo HOOK-REMOVED
                true"
        [ "$status" -eq 0 ]
        [[ "$output" != *WRITTEN* ]]
        [[ "$output" != *NEW-HOOK* ]]
        [[ "$output" != *CHMOD* ]]
        [[ "$output" != *HOOK-REMOVED* ]]
        host_runs_nothing_of_the_box
}

@test "parents: .git and .claude cannot be moved aside, removed or replaced (nor .git by a gitdir file)" {
        mkrepo
        run box -- sh -c "
                mv .git .git-old && echo MOVED
                rm -rf .git; [ -d .git ] || echo REMOVED
                mv .claude .claude-old && echo CLAUDE-MOVED
                rm -rf .claude; [ -f .claude/settings.json ] || echo CLAUDE-REMOVED
                mkdir -p /tmp/evil && echo 'gitdir: /tmp/evil' > .git && echo GITDIR-FILE
                true"
        [[ "$output" != *MOVED* ]]
        [[ "$output" != *REMOVED* ]]
        [[ "$output" != *GITDIR-FILE* ]]
        # rm -rf emptied what it could inside .git (the box may destroy its
        # own data); what the host runs is intact
        [ -d "$WS/.git" ] && [ -f "$WS/.git/config" ]
        [ "$(sums)" = "$SUMS_BEFORE" ]
}

@test "missing protected paths cannot be created: .claude/settings.json, .mcp.json, .envrc, .git/hooks/x, .vscode" {
        $GIT -C "$WS" init -q
        rm -rf "$WS/.git/hooks"
        local before
        before=$(ls -A "$WS")
        run box -- sh -c '
                mkdir -p .claude && echo "{\"hooks\":{\"SessionStart\":[]}}" > .claude/settings.json && echo CLAUDE
                echo "{\"mcpServers\":{}}" > .mcp.json && echo MCP
                echo "touch /tmp/x" > .envrc && echo ENVRC
                mkdir -p .git/hooks && echo "#!/bin/sh" > .git/hooks/pre-commit && echo HOOK
                mkdir -p .vscode && echo "{}" > .vscode/tasks.json && echo VSCODE
                echo . > .git/commondir && echo COMMONDIR
                ls -a'
        [[ "$output" != *CLAUDE* ]]
        [[ "$output" != *MCP* ]]
        [[ "$output" != *ENVRC* ]]
        [[ "$output" != *HOOK* ]]
        [[ "$output" != *VSCODE* ]]
        [[ "$output" != *COMMONDIR* ]]
        # the host's workspace is left as it was found: no placeholder stays
        [ "$(ls -A "$WS")" = "$before" ]
        [ ! -e "$WS/.git/hooks" ]
        [ ! -e "$WS/.git/commondir" ]
}

@test "a workspace that is not a repository: the box cannot make one the host's git would use" {
        local outer
        outer=$(mktemp -d "${TMPDIR:-/tmp}/abouter.XXXXXX")
        CLEANUP+=("rm -rf '$outer'")
        run box -- sh -c "git init -q . && git config core.fsmonitor 'touch $BATS_TEST_TMPDIR/c' && echo INIT"
        [[ "$output" != *INIT* ]]
        [ ! -e "$WS/.git" ]
        run git -C "$WS" status
        [ "$status" -ne 0 ]
        [ ! -e "$BATS_TEST_TMPDIR/c" ]
}

@test "FIFOs, sockets and device nodes cannot be made anywhere in the workspace" {
        mkrepo
        mkdir "$WS/sub"
        for p in ff sub/ff .git/ff; do
                run probe mkfifo "$p"
                assert_blocked
        done
        run probe mksock sub/sock
        assert_blocked
        run probe mkchar sub/null
        assert_blocked
        [ -z "$(find "$WS" \( -type p -o -type s -o -type c -o -type b \) -print -quit)" ]
        # a FIFO made elsewhere cannot be moved in either
        run box -- sh -c 'mkfifo ~/f && mv ~/f .git/HEAD && echo MOVED-IN'
        [[ "$output" != *MOVED-IN* ]]
        [ ! -p "$WS/.git/HEAD" ]
        # (mv removed HEAD before it failed: the box may destroy its own
        # data, but host git does not hang on it)
        timeout 10 git -C "$WS" status >/dev/null 2>&1 || [ $? -ne 124 ]
}

@test "hard links and symlinks do not reach protected files" {
        mkrepo
        run box -- sh -c '
                ln .git/config hl && echo HARDLINK
                ln -s .git/config sl; echo "[core] fsmonitor = evil" >> sl && echo VIA-SYMLINK
                ln -s .claude/settings.json sub-s; echo x >> sub-s && echo VIA-SYMLINK2
                true'
        [[ "$output" != *HARDLINK* ]]
        [[ "$output" != *VIA-SYMLINK* ]]
        [ "$(sums)" = "$SUMS_BEFORE" ]
}

@test "a protected file with a second hard link, or a protected path that is a symlink, is refused at start" {
        mkrepo
        ln "$WS/.git/config" "$WS/config-link"
        run box -- true
        [ "$status" -eq 125 ]
        [[ "$output" == *".git/config has 2 hard links"* ]]
        rm "$WS/config-link"
        ln -s .claude "$WS/.vscode-link"
        rm -rf "$WS/.vscode"
        mv "$WS/.vscode-link" "$WS/.vscode"
        run box -- true
        [ "$status" -eq 125 ]
        [[ "$output" == *".vscode is a symlink"* ]]
        [[ "$output" == *"--unprotect"* ]]
}

@test "a hook that links into the tree protects what it points at" {
        mkrepo
        mkdir "$WS/scripts"
        printf '#!/bin/sh\necho user-hook >>%s\n' "$HOOKLOG" >"$WS/scripts/pre-commit"
        chmod +x "$WS/scripts/pre-commit"
        rm "$WS/.git/hooks/pre-commit"
        ln -s ../../scripts/pre-commit "$WS/.git/hooks/pre-commit"
        local sum
        sum=$(sha256sum <"$WS/scripts/pre-commit")
        run box -- sh -c "echo 'touch $CANARY' >> scripts/pre-commit && echo WRITTEN; true"
        [[ "$output" != *WRITTEN* ]]
        [ "$(sha256sum <"$WS/scripts/pre-commit")" = "$sum" ]
}

@test "--protect adds a path, --unprotect removes one (and what is below it)" {
        mkrepo
        mkdir "$WS/tools"
        run box --protect tools -- sh -c 'touch tools/x && echo MADE; true'
        [[ "$output" != *MADE* ]]
        run box --protect ./tools/ --unprotect .vscode -- sh -c 'echo "{}" > .vscode/tasks.json && echo VSCODE; touch tools/y && echo TOOLS; true'
        [[ "$output" == *VSCODE* ]]
        [[ "$output" != *TOOLS* ]]
        run box --unprotect .git -- sh -c 'git config x.y z && echo CONFIG'
        [[ "$output" == *CONFIG* ]]
        run box --protect ../x -- true
        [ "$status" -eq 125 ]
        [[ "$output" == *"inside the workspace"* ]]
        run box --protect '*.json' -- true
        [ "$status" -eq 125 ]
        [[ "$output" == *"patterns"* ]]
}

@test "--verbose lists the protected paths" {
        mkrepo
        run box --verbose -- true
        [ "$status" -eq 0 ]
        [[ "$output" == *"read-only  .git/hooks"* ]]
        [[ "$output" == *"read-only  .git/config"* ]]
        [[ "$output" == *"no rename  .git"* ]]
        [[ "$output" == *"read-only  .mcp.json"* ]]
}

@test "submodules' and linked worktrees' git directories are protected too" {
        mksub
        local sub=$SUB
        mkrepo
        $GIT -C "$WS" submodule -q add "$sub" lib/sub
        $GIT -C "$WS" commit -qm sub
        $GIT -C "$WS" worktree add -q wt
        [ -f "$WS/.git/modules/lib/sub/config" ]
        local before
        before=$(cd "$WS" && sha256sum .git/modules/lib/sub/config .git/worktrees/wt/commondir)
        run box -- sh -c "
                git -C lib/sub config core.fsmonitor 'touch $CANARY' && echo SUB-CONFIG
                echo x > .git/modules/lib/sub/hooks/pre-commit && echo SUB-HOOK
                mv .git/modules/lib/sub .git/modules/lib/moved && echo SUB-MOVED
                echo /tmp/evil > .git/worktrees/wt/commondir && echo WT-COMMONDIR
                true"
        [[ "$output" != *SUB-* ]]
        [[ "$output" != *WT-COMMONDIR* ]]
        [ "$(cd "$WS" && sha256sum .git/modules/lib/sub/config .git/worktrees/wt/commondir)" = "$before" ]
        $GIT -C "$WS" status >/dev/null
        [ ! -e "$CANARY" ]
}

@test "git works in the box: add, commit, branch, switch, stash, rebase, merge, tag, log, diff, worktree, gc; the host sees the commits" {
        mkrepo
        run box -- sh -ec '
                g() { git -c user.email=a@example.invalid -c user.name=agent "$@"; }
                echo one > f; g add f; g commit -qm one
                g checkout -q -b topic; echo two >> f; g commit -qam two
                g switch -q main; echo three > h; g add h; g commit -qm three
                echo wip >> h; g stash -q; g stash pop -q; g checkout -q -- h
                g switch -q topic; g rebase -q main
                g switch -q main; g merge -q --no-edit topic
                g tag v1; g log --oneline | head -3; g diff HEAD~1 --stat
                g worktree add -q tree2; g -C tree2 log -1 --oneline
                g gc -q; g status --short
                echo WORKFLOW-DONE'
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" == *WORKFLOW-DONE* ]]
        [ "$($GIT -C "$WS" log --format=%s main | head -3 | tr '\n' ' ')" = "two three one " ]
        [ "$($GIT -C "$WS" tag)" = v1 ]
        [ "$(sums)" = "$SUMS_BEFORE" ]
}

@test "placeholders of a killed run are removed by the next, and a run still going keeps its own" {
        $GIT -C "$WS" init -q
        local before
        before=$(ls -A "$WS")
        # a killed run leaves its placeholders ...
        "$AGENTBOX" run --workspace "$WS" --net off -- sleep 100 &
        local pid=$!
        for _ in $(seq 100); do [ -S "$WS/.mcp.json" ] && break; sleep 0.05; done
        [ -S "$WS/.mcp.json" ]
        kill -9 "$pid"
        wait "$pid" || true
        [ -S "$WS/.mcp.json" ]
        # ... a second run takes them over; a third, running beside it,
        # still holds .mcp.json after the second ends
        "$AGENTBOX" run --workspace "$WS" --net off -- sleep 3 &
        local long=$!
        sleep 0.5
        run box --net off -- true
        [ "$status" -eq 0 ]
        [ -S "$WS/.mcp.json" ]
        run box --net off -- sh -c 'echo "{}" > .mcp.json && echo MADE; true'
        [[ "$output" != *MADE* ]]
        wait "$long"
        # the last one out removed them all
        [ "$(ls -A "$WS")" = "$before" ]
}

@test "what no mount can hold back is reported when the box ends: a repository below the root, settings there, links out" {
        mkrepo
        # made by the host before the run: not the box's, not reported
        mkdir -p "$WS/vendor/lib"
        $GIT -C "$WS/vendor/lib" init -q
        sleep 0.1
        run box -- sh -c "
                mkdir -p sub && git -C sub init -q && git -C sub config core.fsmonitor 'touch $CANARY'
                mkdir -p tools/x && echo 'touch $CANARY' > tools/x/.envrc
                ln -s $HOST_HOME/.ssh/id_rsa notes.txt
                ln -s ../../../etc tools/x/up
                ln -s README readme-link
                sleep 0.2"
        [ "$status" -eq 0 ]
        [[ "$output" == *"the box left 4 things"* ]]
        [[ "$output" == *"sub/.git (a repository"* ]]
        [[ "$output" == *"tools/x/.envrc (direnv"* ]]
        [[ "$output" == *"notes.txt (a link out of the workspace, to $HOST_HOME/.ssh/id_rsa)"* ]]
        [[ "$output" == *"tools/x/up (a link out of the workspace"* ]]
        [[ "$output" != *vendor* ]]
        [[ "$output" != *readme-link* ]]
        run box -- sleep 0.1
        [[ "$output" != *"the box left"* ]]
}

@test "a workspace that is a linked worktree: git works in it, and its repository's config and hooks are protected" {
        local main
        main=$(mktemp -d "${TMPDIR:-/tmp}/abmain.XXXXXX")
        CLEANUP+=("rm -rf '$main'")
        $GIT -C "$main" init -q
        $GIT -C "$main" commit -q --allow-empty -m main
        printf '#!/bin/sh\nexit 0\n' >"$main/.git/hooks/pre-commit"
        chmod +x "$main/.git/hooks/pre-commit"
        rmdir "$WS" 2>/dev/null || rm -rf "$WS"
        $GIT -C "$main" worktree add -q "$WS"
        cp "$PROBE_BIN" "$WS/probe"
        local before
        before=$(cd "$main/.git" && sha256sum config hooks/pre-commit "worktrees/$(basename "$WS")/commondir")
        run box -- sh -c "
                g() { git -c user.email=a@example.invalid -c user.name=agent \"\$@\"; }
                g commit -q --allow-empty -m from-the-box && echo COMMITTED
                g config core.fsmonitor 'touch $BATS_TEST_TMPDIR/c' && echo CONFIG
                echo x >> $main/.git/hooks/pre-commit && echo HOOK
                echo . > $main/.git/worktrees/$(basename "$WS")/commondir && echo COMMONDIR
                echo gitdir: /tmp > .git && echo GITFILE
                echo . > $main/.git/commondir && echo MAIN-COMMONDIR
                true"
        [[ "$output" == *COMMITTED* ]]
        [[ "$output" != *CONFIG* ]]
        [[ "$output" != *HOOK* ]]
        [[ "$output" != *COMMONDIR* ]]
        [[ "$output" != *GITFILE* ]]
        [ "$(cd "$main/.git" && sha256sum config hooks/pre-commit "worktrees/$(basename "$WS")/commondir")" = "$before" ]
        [ ! -e "$main/.git/commondir" ]
        [[ "$($GIT -C "$main" log --all --format=%s)" == *from-the-box* ]]
        $GIT -C "$WS" status >/dev/null
        [ ! -e "$BATS_TEST_TMPDIR/c" ]
        # the repository's working tree is not in the box, only its .git
        run box -- ls -A "$main"
        [ "$output" = .git ]
}

@test "a .git file that points at another repository's directory is refused" {
        local other
        other=$(mktemp -d "${TMPDIR:-/tmp}/abother.XXXXXX")
        CLEANUP+=("rm -rf '$other'")
        $GIT -C "$other" init -q
        $GIT -C "$other" commit -q --allow-empty -m x
        $GIT -C "$other" worktree add -q "$other/wt"
        echo "gitdir: $other/.git/worktrees/wt" >"$WS/.git"
        run box -- true
        [ "$status" -eq 125 ]
        [[ "$output" == *"not this worktree's"* ]]
}

@test "the box carries a note saying what is protected, why, and how to change it" {
        # scripts/install-deps (and installing agentbox) make /etc/agentbox
        [ -d /etc/agentbox ] || { echo "no /etc/agentbox on this host: run scripts/install-deps" >&2; return 1; }
        run box --protect tools -- cat /etc/agentbox/README
        [ "$status" -eq 0 ]
        [[ "$output" == *".git/config "*"core.fsmonitor"* ]]
        [[ "$output" == *".claude "*"Claude Code"* ]]
        [[ "$output" == *"tools "*"(added with --protect)"* ]]
        [[ "$output" == *"--unprotect PATH"* ]]
        run box -- sh -c 'echo x > /etc/agentbox/README'
        [ "$status" -ne 0 ]
}

# --- what git points at (found by an outside review) ---

@test "what the config points at is protected: core.hooksPath, include.path, includeIf" {
        mkrepo
        $GIT -C "$WS" config core.hooksPath .githooks
        $GIT -C "$WS" config include.path ../shared.gitconfig
        $GIT -C "$WS" config 'includeIf.gitdir:/.path' ../cond.gitconfig
        mkdir "$WS/.githooks"
        printf '#!/bin/sh\nexit 0\n' >"$WS/.githooks/pre-commit"
        chmod +x "$WS/.githooks/pre-commit"
        run box -- sh -c "
                echo 'touch $CANARY' >> .githooks/pre-commit && echo HOOK
                printf '#!/bin/sh\ntouch $CANARY\n' > .githooks/post-checkout && echo NEWHOOK
                printf '[core]\n\tfsmonitor = touch $CANARY\n' > shared.gitconfig && echo INCLUDE
                printf '[core]\n\tfsmonitor = touch $CANARY\n' > cond.gitconfig && echo INCLUDEIF
                true"
        [[ "$output" != *HOOK* ]]
        [[ "$output" != *INCLUDE* ]]
        [ ! -e "$WS/shared.gitconfig" ] && [ ! -e "$WS/cond.gitconfig" ]
        $GIT -C "$WS" status >/dev/null
        echo x >>"$WS/README"
        $GIT -C "$WS" commit -qam host
        [ ! -e "$CANARY" ]
}

@test "a .git file pointing inside the workspace (the .bare layout): that git directory is protected" {
        $GIT init -q --bare "$WS/.bare"
        echo "gitdir: ./.bare" >"$WS/.git"
        $GIT -C "$WS" config core.bare false
        $GIT -C "$WS" commit -q --allow-empty -m x
        CANARY="$BATS_TEST_TMPDIR/c"
        run box -- sh -c "
                printf '#!/bin/sh\ntouch $CANARY\n' > .bare/hooks/pre-commit && echo HOOK
                git config core.fsmonitor 'touch $CANARY' && echo CONFIG
                echo 'gitdir: /tmp' > .git && echo GITFILE
                true"
        [[ "$output" != *HOOK* ]]
        [[ "$output" != *CONFIG* ]]
        [[ "$output" != *GITFILE* ]]
        $GIT -C "$WS" status >/dev/null
        [ ! -e "$CANARY" ]
}

@test "submodules: .git/modules is read-only but for each submodule's own state; a submodule's .git cannot be re-pointed" {
        mksub
        local sub=$SUB
        mkrepo
        $GIT -C "$WS" submodule -q add "$sub" lib/sub
        $GIT -C "$WS" commit -qm sub
        # registered but not checked out here
        $GIT -C "$WS" -c protocol.file.allow=always submodule -q add "$sub" lib/two
        rm -rf "$WS/lib/two" "$WS/.git/modules/lib/two"
        mkdir "$WS/lib/two"
        run box -- sh -c "
                g() { git -c user.email=a@example.invalid -c user.name=agent \"\$@\"; }
                g -C lib/sub commit -q --allow-empty -m in-sub && echo SUB-COMMIT
                git init -q --bare .git/modules/lib/two && echo NEW-MODULE
                git init -q --bare evil.git && echo 'gitdir: ../../evil.git' > lib/sub/.git && echo REPOINT
                echo 'gitdir: ../../evil.git' > lib/two/.git && echo NEW-GITFILE
                true"
        [[ "$output" == *SUB-COMMIT* ]]
        [[ "$output" != *NEW-MODULE* ]]
        [[ "$output" != *REPOINT* ]]
        [[ "$output" != *NEW-GITFILE* ]]
        [[ "$($GIT -C "$WS/lib/sub" log --format=%s -1)" == in-sub ]]
}

@test "a hook linked through another link in the tree is refused; one reached by an alias of the workspace's path is protected" {
        mkrepo
        mkdir "$WS/scripts"
        printf '#!/bin/sh\nexit 0\n' >"$WS/scripts/hook"
        chmod +x "$WS/scripts/hook"
        ln -s scripts "$WS/tools"
        rm "$WS/.git/hooks/pre-commit"
        ln -s ../../tools/hook "$WS/.git/hooks/pre-commit"
        run box -- true
        [ "$status" -eq 125 ]
        [[ "$output" == *"goes through another link"* ]]
        local alias="$BATS_TEST_TMPDIR/alias"
        ln -s "$WS" "$alias"
        rm "$WS/.git/hooks/pre-commit"
        ln -s "$alias/scripts/hook" "$WS/.git/hooks/pre-commit"
        run box -- sh -c 'echo "touch /tmp/x" >> scripts/hook && echo WRITTEN; true'
        [[ "$output" != *WRITTEN* ]]
        rm "$WS/.git/hooks/pre-commit"
        ln -s "../../../$(basename "$WS")/scripts/hook" "$WS/.git/hooks/pre-commit"
        run box -- sh -c 'echo "touch /tmp/x" >> scripts/hook && echo WRITTEN; true'
        [[ "$output" != *WRITTEN* ]]
}

@test "a repository without .git/config, and .hg and .jj at the root, cannot be given config by the box" {
        mkrepo
        rm "$WS/.git/config"
        run box -- sh -c "
                printf '[core]\n\tfsmonitor = touch $CANARY\n' > .git/config && echo CONFIG
                mkdir -p .hg && echo '[hooks]' > .hg/hgrc && echo HG
                mkdir -p .jj/repo && echo x > .jj/repo/config.toml && echo JJ
                true"
        [[ "$output" != *CONFIG* ]]
        [[ "$output" != *HG* ]]
        [[ "$output" != *JJ* ]]
        [ ! -e "$WS/.git/config" ] && [ ! -e "$WS/.hg" ] && [ ! -e "$WS/.jj" ]
}

@test "an unfinished rebase, a changed nested repository and a changed worktree pointer are reported when the box ends" {
        mkrepo
        mkdir -p "$WS/vendor/lib"
        $GIT -C "$WS/vendor/lib" init -q
        $GIT -C "$WS/vendor/lib" commit -q --allow-empty -m v
        sleep 0.1
        run box -- sh -c "
                g() { git -c user.email=a@example.invalid -c user.name=agent \"\$@\"; }
                g commit -q --allow-empty -m a; g commit -q --allow-empty -m b
                GIT_SEQUENCE_EDITOR='printf \"break\nexec touch $CANARY\n\" >' g rebase -q -i HEAD~1 2>/dev/null
                git -C vendor/lib config core.fsmonitor 'touch $CANARY'
                printf '#!/bin/sh\n' > vendor/lib/.git/hooks/pre-commit
                g worktree add -q wt2 && echo ../.. > .git/worktrees/wt2/commondir
                sleep 0.2"
        [[ "$output" == *".git/rebase-merge (an unfinished rebase"* ]]
        [[ "$output" == *"vendor/lib/.git/config (a nested repository's config"* ]]
        [[ "$output" == *"vendor/lib/.git/hooks/pre-commit (a nested repository's hook"* ]]
        [[ "$output" == *".git/worktrees/wt2/commondir (a linked worktree's pointer"* ]]
        $GIT -C "$WS" rebase --abort
}

@test "placeholders are known by their shape: a killed run's go with the next run whoever runs it, with no state of agentbox's" {
        $GIT -C "$WS" init -q
        local before
        before=$(ls -A "$WS")
        HOME="$BATS_TEST_TMPDIR/h1" "$AGENTBOX" run --workspace "$WS" --net off -- sleep 100 &
        local pid=$!
        for _ in $(seq 100); do [ -S "$WS/.mcp.json" ] && break; sleep 0.05; done
        kill -9 "$pid"
        wait "$pid" || true
        [ -S "$WS/.mcp.json" ]
        mkdir -p "$BATS_TEST_TMPDIR/h2"
        HOME="$BATS_TEST_TMPDIR/h2" XDG_STATE_HOME= run "$AGENTBOX" run --workspace "$WS" --net off -- true
        [ "$status" -eq 0 ]
        [ "$(ls -A "$WS")" = "$before" ]
}

# --- a second outside review ---

@test "a run on a linked worktree does not sweep the placeholders a run on its main worktree still holds" {
        local main wt
        main=$(mktemp -d "${TMPDIR:-/tmp}/abmain.XXXXXX")
        wt="$main-wt"
        CLEANUP+=("rm -rf '$main' '$wt'")
        $GIT -C "$main" init -q
        $GIT -C "$main" commit -q --allow-empty -m m
        rm -rf "$main/.git/hooks"
        $GIT -C "$main" worktree add -q "$wt"
        "$AGENTBOX" run --net off --workspace "$main" -- sh -c \
                'sleep 2; mkdir -p .git/hooks; echo x > .git/hooks/pre-commit && echo HOOK-WRITTEN; true' \
                >"$BATS_TEST_TMPDIR/m.out" 2>&1 &
        local m=$!
        sleep 0.5
        run "$AGENTBOX" run --net off --workspace "$wt" -- true
        [ "$status" -eq 0 ]
        [ -S "$main/.git/hooks" ]
        wait "$m"
        [[ "$(cat "$BATS_TEST_TMPDIR/m.out")" != *HOOK-WRITTEN* ]]
        [ ! -e "$main/.git/hooks" ]
}

@test "config the reader must read as git does: CRLF, a byte-order mark, includes of includes, config.worktree, ~, an fsmonitor with arguments" {
        mkrepo
        local home="$BATS_TEST_TMPDIR/home"
        mkdir -p "$home"
        printf '[core]\r\n\thooksPath = .crlfhooks\r\n' >>"$WS/.git/config"
        printf '[include]\n\tpath = ../inc1.cfg\n' >>"$WS/.git/config"
        printf '[include]\n\tpath = inc2.cfg\n' >"$WS/inc1.cfg"
        printf '[core]\n\tfsmonitor = "sh tools/fsmon.sh --fast"\n' >"$WS/inc2.cfg"
        run box -- sh -c "
                mkdir -p .crlfhooks && echo x > .crlfhooks/pre-commit && echo CRLF
                echo '[core] hooksPath = /tmp' > inc2.cfg && echo INC2
                mkdir -p tools && echo 'touch $CANARY' > tools/fsmon.sh && echo FSMON
                true"
        [[ "$output" != *CRLF* ]]
        [[ "$output" != *INC2* ]]
        [[ "$output" != *FSMON* ]]
        [ ! -e "$WS/sh" ] # no placeholder for the shell's name
}

@test "the report cannot be forged or hidden by names, and says when parts lie too deep" {
        mkrepo
        run box -- sh -c '
                mkdir -p "$(printf "x\nagentbox:   forged (line)")"/.envrc
                d=deep; for i in $(seq 34); do d=$d/d; done; mkdir -p $d/.git
                sleep 0.2'
        [[ "$output" != *$'\nagentbox:   forged'* ]]
        [[ "$output" == *"deeper than agentbox looks"* ]]
}

@test "odd linked-worktree pointers the box made do not stop the next start" {
        mkrepo
        run box -- sh -c 'mkdir -p .git/worktrees/x && ln -s /nowhere .git/worktrees/x/gitdir && mkdir -p "$(printf ".git/worktrees/a\nb")"'
        run box -- true
        [ "$status" -eq 0 ]
}

# --- a third outside review ---

@test "nested workspaces (a superproject and its submodule) never sweep each other's placeholders" {
        $GIT -C "$WS" init -q
        mkdir "$WS/inner"
        printf '[submodule "inner"]\n\tpath = inner\n\turl = ./inner\n' >"$WS/.gitmodules"
        "$AGENTBOX" run --net off --workspace "$WS/inner" -- sh -c \
                'sleep 2; git init -q . && echo INNER-INIT; true' >"$BATS_TEST_TMPDIR/in.out" 2>&1 &
        local b=$!
        sleep 0.5
        [ -S "$WS/inner/.git" ]
        run box --net off -- true
        [ "$status" -eq 0 ]
        [ -S "$WS/inner/.git" ]
        wait "$b"
        [[ "$(cat "$BATS_TEST_TMPDIR/in.out")" != *INNER-INIT* ]]
        [ ! -e "$WS/inner/.git" ]
}

@test "with extensions.worktreeConfig on, a worktree's missing config.worktree cannot be made" {
        local main
        main=$(mktemp -d "${TMPDIR:-/tmp}/abmain.XXXXXX")
        CLEANUP+=("rm -rf '$main'")
        $GIT -C "$main" init -q
        $GIT -C "$main" config extensions.worktreeConfig true
        $GIT -C "$main" commit -q --allow-empty -m m
        rm -rf "$WS"
        $GIT -C "$main" worktree add -q "$WS"
        local wt
        wt=$(basename "$WS")
        run box -- sh -c "printf '[core]\n\tfsmonitor = touch $BATS_TEST_TMPDIR/c\n' > $main/.git/worktrees/$wt/config.worktree && echo WRITTEN; true"
        [[ "$output" != *WRITTEN* ]]
        $GIT -C "$WS" status >/dev/null
        [ ! -e "$BATS_TEST_TMPDIR/c" ]
}

@test "a user's own files that look like placeholders are kept: only commondir and config are ever taken for one" {
        mkrepo
        printf '.\n' >"$WS/.envrc"
        chmod 0444 "$WS/.envrc"
        run box -- true
        [ "$status" -eq 0 ]
        [ -f "$WS/.envrc" ]
}

@test "a workspace agentbox cannot read (and so cannot lock) is refused" {
        [ "$(id -u)" != 0 ] || return 0 # root reads anything
        chmod 0311 "$WS"
        CLEANUP+=("chmod 0755 '$WS'")
        run box -- true
        [ "$status" -eq 125 ]
        [[ "$output" == *"cannot open it to lock it"* ]]
}

@test "many worktree directories the box made do not stop the next start" {
        mkrepo
        run box -- sh -c 'for i in $(seq 4200); do mkdir .git/worktrees/w$i 2>/dev/null || mkdir -p .git/worktrees/w$i; done'
        run box -- true
        [ "$status" -eq 0 ]
}

@test "nested submodules: a submodule's own submodules' .git and a relative core.hooksPath in them are protected" {
        mksub
        local leaf=$SUB
        mksub
        local mid=$SUB
        $GIT -C "$mid" submodule -q add "$leaf" subsub
        $GIT -C "$mid" commit -qm leaf
        mkrepo
        $GIT -C "$WS" submodule -q add "$mid" sub
        $GIT -C "$WS" submodule -q update --init --recursive
        $GIT -C "$WS" commit -qm mid
        [ -f "$WS/sub/subsub/.git" ]
        $GIT -C "$WS/sub/subsub" config core.hooksPath myhooks
        run box -- sh -c "
                mkdir -p sub/subsub/myhooks && echo x > sub/subsub/myhooks/pre-commit && echo HOOK
                git init -q sub/x && echo 'gitdir: ../x/.git' > sub/subsub/.git && echo REPOINT
                true"
        [[ "$output" != *HOOK* ]]
        [[ "$output" != *REPOINT* ]]
        $GIT -C "$WS" status >/dev/null
}
