/* Where a value of the policy came from: which layer, and where in it
 * (a file's line and column; a flag's place on the command line). */
#pragma once

#include <stdint.h>

enum policy_layer {
        POLICY_LAYER_DEFAULT, /* built in */
        POLICY_LAYER_MANAGED, /* /etc/agentbox/managed.yaml: the ceiling */
        POLICY_LAYER_USER,    /* ~/.config/agentbox/config.yaml */
        POLICY_LAYER_AGENT,   /* agentbox claude|codex|gemini's profile */
        POLICY_LAYER_PROJECT, /* the workspace's agentbox.yaml */
        POLICY_LAYER_FLAGS,   /* the command line */
        POLICY_LAYER_N,
};

struct policy_src {
        uint8_t layer;      /* enum policy_layer */
        uint32_t line, col; /* 1-based; for flags, the argument's index */
};
