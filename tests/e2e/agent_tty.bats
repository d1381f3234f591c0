#!/usr/bin/env bats
# A real agent's TUI in the box's own terminal: Claude Code, installed from
# npm (the registry npm is configured for), run in tmux as a user would.
# It draws its welcome screen, fails to reach its service (the box allows
# no destination), says so and exits; agentbox's denials must wait while
# it has the screen and come after it, once each.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
        export CC_DIR="$BATS_FILE_TMPDIR/claude"
        mkdir -p "$CC_DIR"
        chmod 755 "$BATS_FILE_TMPDIR" "$CC_DIR"
        (cd "$CC_DIR" && timeout 300 npm install --no-audit --no-fund \
                --loglevel=error @anthropic-ai/claude-code >npm.log 2>&1) || {
                echo "npm could not install Claude Code:" >&2
                cat "$CC_DIR/npm.log" >&2
                return 1
        }
}

tm() {
        tmux -L "abagent$$" -f /dev/null "$@"
}

@test "Claude Code in the box: its screen is drawn, agentbox's denials wait until it gives the screen back, once each" {
        CLEANUP+=("tmux -L abagent$$ kill-server")
        tm new-session -d -x 120 -y 40 -s t "cd $CC_DIR && $AGENTBOX run --workspace $CC_DIR -- node_modules/.bin/claude; echo EXIT=\$?; sleep 120"
        local screen="" drawn=0 i
        for i in $(seq 600); do
                screen=$(tm capture-pane -p -t t)
                [[ "$screen" == *"Claude Code"* || "$screen" == *"Welcome"* ]] && drawn=1
                [[ "$screen" == *EXIT=* ]] && break
                # while it draws (before its last words), nothing of
                # agentbox's in its screen
                if [[ "$screen" == *"agentbox: blocked"* &&
                      "$screen" != *"Unable to connect"* ]]; then
                        echo "a denial landed in Claude Code's screen:" >&2
                        echo "$screen" >&2
                        return 1
                fi
                sleep 0.05
        done
        echo "$screen"
        [ "$drawn" -eq 1 ]
        [[ "$screen" == *EXIT=* ]]
        [[ "$screen" == *"agentbox: blocked https://api.anthropic.com:443"* ]]
        [[ "$screen" == *"held while the box's program had the screen"* ]]
        [ "$(grep -c 'blocked https://api.anthropic.com:443' <<<"$screen")" -eq 1 ]
        # and below its last words
        local said blocked
        said=$(grep -n "Unable to connect" <<<"$screen" | head -1 | cut -d: -f1)
        blocked=$(grep -n "agentbox: blocked" <<<"$screen" | head -1 | cut -d: -f1)
        [ -n "$said" ] && [ "$blocked" -gt "$said" ]
}
