{
  "targets": [
    {
      "target_name": "talus_fs",
      "sources": ["native/talus_fs.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
