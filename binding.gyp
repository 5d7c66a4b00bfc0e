{
  "variables": {
    # -Werror only where asked (CI sets NSBOX_WERROR=1): a user's newer compiler must not
    # break their install over a new warning.
    "nsbox_werror": "<!(node -p \"process.env.NSBOX_WERROR ? '-Werror' : '-Wno-error'\")"
  },
  "targets": [
    {
      # The program that runs inside the namespaces. Static and single-threaded: it is
      # exec'd from a vfork child and must not depend on the rootfs's libraries.
      "target_name": "nsbox_helper",
      "type": "executable",
      "sources": [
        "src/helper/main.c",
        "src/helper/plan.c",
        "src/helper/setup.c",
        "src/helper/mounts.c",
        "src/helper/readonly.c",
        "src/helper/security.c",
        "src/helper/limits.c",
        "src/helper/command.c",
        "src/helper/init.c",
        "src/helper/report.c",
        "src/helper/network.c",
        "src/helper/namespaces.c",
        "src/helper/rt/start.c",
        "src/helper/rt/syscalls.c",
        "src/helper/rt/string.c",
        "src/helper/rt/alloc.c"
      ],
      "defines": ["_GNU_SOURCE"],
      # No glibc (see src/helper/rt/start.c): freestanding code, our own runtime, static, no PIE.
      "cflags": ["-O2", "-std=gnu11", "-fno-stack-protector", "-fno-pie", "-fno-asynchronous-unwind-tables",
                 "-fno-builtin", "-Wall", "-Wextra", "<(nsbox_werror)"],
      "ldflags": ["-static", "-nostdlib", "-no-pie", "-s"],
      "libraries": ["-lgcc"]
    },
    {
      "target_name": "embed_helper",
      "type": "none",
      "dependencies": ["nsbox_helper"],
      "actions": [
        {
          "action_name": "embed_helper",
          "inputs": ["<(PRODUCT_DIR)/nsbox_helper", "scripts/embed-helper.js"],
          "outputs": ["<(SHARED_INTERMEDIATE_DIR)/helper_blob.S"],
          "action": ["node", "scripts/embed-helper.js", "<(PRODUCT_DIR)/nsbox_helper", "<(SHARED_INTERMEDIATE_DIR)/helper_blob.S"]
        }
      ]
    },
    {
      "target_name": "nsbox",
      "dependencies": ["embed_helper", "<!(node -p \"require('node-addon-api').targets\"):node_addon_api"],
      "sources": [
        "src/addon.cc",
        "src/spawn.cc",
        "src/clone_child.cc",
        "src/watch.cc",
        "src/primitives.cc",
        "src/helper_image.cc",
        "src/userns.cc",
        "src/request.cc",
        "src/orphans.cc",
        "src/seccomp.cc",
        "src/network.cc",
        "<(SHARED_INTERMEDIATE_DIR)/helper_blob.S"
      ],
      "defines": ["NAPI_VERSION=8"],
      # libseccomp linked in (Debian: libseccomp-dev), its symbols kept private to the addon.
      "libraries": ["-l:libseccomp.a"],
      "ldflags": ["-Wl,--exclude-libs,libseccomp.a"],
      "cflags": ["-Wall", "-Wextra", "<(nsbox_werror)"],
      "cflags_cc": ["-std=c++17", "-fno-exceptions", "-Wall", "-Wextra", "<(nsbox_werror)"]
    }
  ]
}
