{
  "variables": {
    "talus_liburing%": ""
  },
  "targets": [
    {
      "target_name": "talus_fs",
      "sources": ["native/talus_fs.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        [
          "OS=='linux' and talus_liburing!=''",
          {
            "sources": ["native/talus_iouring.c"],
            "defines": ["TALUS_HAVE_LIBURING=1"],
            "cflags": ["-pthread"],
            "ldflags": ["-pthread", "-Wl,--exclude-libs,ALL"],
            "libraries": ["<(talus_liburing)"]
          }
        ]
      ]
    }
  ]
}
