/*
 * Container mode of the Hearth init (see container.h and vmm/guest/README.md).
 *
 * The config (CONTAINER_CONFIG, written by the node agent) is a header line, then records:
 *
 *   hearth-container 1\n
 *   <tag> <length>\n<length bytes>\n     repeated; tags:
 *     a  one argv entry (in order; the first is the program)
 *     e  one environment entry NAME=VALUE
 *     w  the working directory (absolute)
 *     u  the user: name|uid[:group|gid] (empty: root)
 *     p  the I/O port of the VMM's guest-exit device (decimal)
 *
 * Values hold any byte but NUL; lengths are bounded. The init mounts /dev/vda (ext4) on /newroot,
 * with /proc, /sys, /dev, /dev/shm and /tmp, moves it to / and chroots; resolves the user from the
 * image's /etc/passwd and /etc/group (supplementary groups too); makes the working directory if
 * missing; forks the program with the console as stdin/stdout/stderr; reaps every child (it is PID
 * 1); when the program ends, kills what is left, prints HEARTH-CONTAINER-EXIT, writes the status
 * to the exit port (0x48450000 | kind << 8 | code; kind 0 exited, 1 signalled, 2 not started) and
 * reboots, which ends the VM.
 */
#define _GNU_SOURCE
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CONFIG (1 << 20)
#define MAX_ARGV 1024
#define MAX_ENV 1024
#define MAX_GROUPS 64
#define EXIT_MAGIC 0x48450000u
#define KIND_EXITED 0
#define KIND_SIGNALLED 1
#define KIND_NOT_STARTED 2
/* Docker's codes: the runtime failed, the program cannot run, the program is missing. */
#define CODE_RUNTIME 125
#define CODE_CANNOT_RUN 126
#define CODE_NOT_FOUND 127

extern char **environ;

struct container {
  char *argv[MAX_ARGV + 1];
  int argc;
  char *env[MAX_ENV + 2]; /* room for HOME and the terminating NULL */
  int envc;
  const char *workdir;
  const char *user;
  unsigned long port;
};

static void cline(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
  buf[n++] = '\n';
  ssize_t w = write(2, buf, n);
  (void)w;
}

static void report(unsigned long port, int kind, int code) {
  if (kind == KIND_SIGNALLED) cline("HEARTH-CONTAINER-EXIT signal=%d", code);
  else if (kind == KIND_NOT_STARTED) cline("HEARTH-CONTAINER-EXIT not-started code=%d", code);
  else cline("HEARTH-CONTAINER-EXIT code=%d", code);
  if (port == 0 || port > 0xfffc) return;
  if (ioperm(port, 4, 1) != 0) {
    cline("hearth-init: ioperm 0x%lx: %s", port, strerror(errno));
    return;
  }
  outl(EXIT_MAGIC | (unsigned)kind << 8 | ((unsigned)code & 0xff), (unsigned short)port);
}

static void __attribute__((noreturn)) finish(unsigned long port, int kind, int code) {
  kill(-1, SIGKILL); /* what the program left behind; PID 1 is spared */
  while (waitpid(-1, NULL, 0) > 0) {
  }
  sync();
  report(port, kind, code);
  reboot(RB_AUTOBOOT); /* reboot=k: the i8042 resets, and the VMM ends the VM */
  for (;;) pause();
}

static char *slurp(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  char *buf = malloc(MAX_CONFIG + 1);
  size_t got = 0;
  ssize_t n;
  while (buf && got < MAX_CONFIG && (n = read(fd, buf + got, MAX_CONFIG - got)) > 0) got += n;
  close(fd);
  if (buf) buf[got] = 0;
  *len = got;
  return buf;
}

/* Parses the config in buf (NUL-terminated in place); 0, or -1 with why set. */
static int parse(char *buf, size_t len, struct container *c, const char **why) {
  static const char header[] = "hearth-container 1\n";
  memset(c, 0, sizeof *c);
  c->workdir = "/";
  c->user = "";
  if (len < sizeof header - 1 || memcmp(buf, header, sizeof header - 1) != 0) {
    *why = "no 'hearth-container 1' header";
    return -1;
  }
  char *p = buf + sizeof header - 1, *end = buf + len;
  while (p < end) {
    char tag = *p;
    if (end - p < 4 || p[1] != ' ') { *why = "a record without '<tag> <length>'"; return -1; }
    char *nl;
    unsigned long n = strtoul(p + 2, &nl, 10);
    if (nl == p + 2 || *nl != '\n' || n > (unsigned long)(end - nl - 2) || nl[1 + n] != '\n') {
      *why = "a record whose length does not match its value";
      return -1;
    }
    char *value = nl + 1;
    if (memchr(value, 0, n) != NULL) { *why = "a NUL byte in a value"; return -1; }
    value[n] = 0;
    p = value + n + 1;
    switch (tag) {
      case 'a':
        if (c->argc >= MAX_ARGV) { *why = "too many arguments"; return -1; }
        c->argv[c->argc++] = value;
        break;
      case 'e':
        if (c->envc >= MAX_ENV || strchr(value, '=') == NULL || value[0] == '=') {
          *why = "too many environment entries, or one without NAME=";
          return -1;
        }
        c->env[c->envc++] = value;
        break;
      case 'w':
        if (value[0] != '/') { *why = "a working directory that is not absolute"; return -1; }
        c->workdir = value;
        break;
      case 'u': c->user = value; break;
      case 'p': c->port = strtoul(value, NULL, 10); break;
      default: *why = "an unknown record tag"; return -1;
    }
  }
  if (c->argc == 0) { *why = "no program to run"; return -1; }
  return 0;
}

static void mount_in(const char *root, const char *dir, const char *type, unsigned long flags,
                     const char *data, mode_t mode) {
  char path[256];
  snprintf(path, sizeof path, "%s%s", root, dir);
  mkdir(path, mode); /* the image may lack it; an existing one is fine */
  if (mount(type, path, type, flags, data) != 0)
    cline("hearth-init: mount %s on %s: %s", type, dir, strerror(errno));
}

/* Mounts the image as the new root and enters it; 0, or -1 with why set. */
static int enter_root(const char **why) {
  mkdir("/newroot", 0755);
  if (mount("/dev/vda", "/newroot", "ext4", 0, NULL) != 0) {
    *why = strerror(errno);
    return -1;
  }
  mount_in("/newroot", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0555);
  mount_in("/newroot", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0555);
  mount_in("/newroot", "/dev", "devtmpfs", MS_NOSUID, NULL, 0755);
  mount_in("/newroot", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 01777);
  mount_in("/newroot", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 01777);
  /* The initramfs is the kernel's rootfs, which cannot be pivoted away: move over it instead. */
  if (chdir("/newroot") != 0 || mount(".", "/", NULL, MS_MOVE, NULL) != 0 || chroot(".") != 0 ||
      chdir("/") != 0) {
    *why = strerror(errno);
    return -1;
  }
  return 0;
}

/* Field i (0-based) of a colon-separated line, copied into out; 0 when missing. */
static int field(const char *line, int i, char *out, size_t len) {
  const char *s = line;
  for (int k = 0; k < i; k++) {
    s = strchr(s, ':');
    if (!s) return 0;
    s++;
  }
  size_t n = strcspn(s, ":\n");
  if (n >= len) n = len - 1;
  memcpy(out, s, n);
  out[n] = 0;
  return 1;
}

static int numeric(const char *s, unsigned long *v) {
  char *end;
  if (!*s || strspn(s, "0123456789") != strlen(s)) return 0;
  *v = strtoul(s, &end, 10);
  return *v <= 0x7fffffffUL;
}

/* The /etc/passwd line whose field key_field equals key, into line; 0 when there is none. */
static int lookup(const char *file, int key_field, const char *key, char *line, size_t len) {
  FILE *f = fopen(file, "re");
  int found = 0;
  char k[256];
  while (f && !found && fgets(line, (int)len, f))
    found = line[0] != '#' && field(line, key_field, k, sizeof k) && strcmp(k, key) == 0;
  if (f) fclose(f);
  return found;
}

struct identity {
  uid_t uid;
  gid_t gid;
  gid_t groups[MAX_GROUPS];
  int ngroups;
  char home[512];
};

/* Docker's rules for the user spec name|uid[:group|gid]; 0, or -1 with why set. */
static int resolve_user(const char *spec, struct identity *id, char *why, size_t whylen) {
  char user[256], group[256] = "", line[2048], name[256] = "", buf[512];
  unsigned long v;
  snprintf(user, sizeof user, "%s", spec[0] ? spec : "0");
  char *colon = strchr(user, ':');
  if (colon) {
    *colon = 0;
    snprintf(group, sizeof group, "%s", colon + 1);
  }
  memset(id, 0, sizeof *id);
  strcpy(id->home, "/");
  int found;
  if (numeric(user, &v)) {
    id->uid = (uid_t)v;
    found = lookup("/etc/passwd", 2, user, line, sizeof line); /* optional for a number */
  } else {
    found = lookup("/etc/passwd", 0, user, line, sizeof line);
    if (!found) {
      snprintf(why, whylen, "user '%s' is not in the image's /etc/passwd", user);
      return -1;
    }
    field(line, 2, buf, sizeof buf);
    if (!numeric(buf, &v)) {
      snprintf(why, whylen, "user '%s' has no numeric uid in /etc/passwd", user);
      return -1;
    }
    id->uid = (uid_t)v;
  }
  if (found) {
    field(line, 0, name, sizeof name);
    if (field(line, 3, buf, sizeof buf) && numeric(buf, &v)) id->gid = (gid_t)v;
    if (field(line, 5, buf, sizeof buf) && buf[0] == '/') snprintf(id->home, sizeof id->home, "%s", buf);
  }
  if (group[0]) {
    if (numeric(group, &v)) {
      id->gid = (gid_t)v;
    } else if (lookup("/etc/group", 0, group, line, sizeof line) && field(line, 2, buf, sizeof buf) &&
               numeric(buf, &v)) {
      id->gid = (gid_t)v;
    } else {
      snprintf(why, whylen, "group '%s' is not in the image's /etc/group", group);
      return -1;
    }
  }
  id->groups[id->ngroups++] = id->gid;
  FILE *f = name[0] ? fopen("/etc/group", "re") : NULL;
  while (f && id->ngroups < MAX_GROUPS && fgets(line, sizeof line, f)) {
    char members[1536], gid[32];
    if (line[0] == '#' || !field(line, 3, members, sizeof members) || !field(line, 2, gid, sizeof gid) ||
        !numeric(gid, &v))
      continue;
    for (char *save = NULL, *m = strtok_r(members, ",", &save); m; m = strtok_r(NULL, ",", &save))
      if (strcmp(m, name) == 0 && (gid_t)v != id->gid) id->groups[id->ngroups++] = (gid_t)v;
  }
  if (f) fclose(f);
  return 0;
}

/* mkdir -p, as root: Docker makes a missing working directory too. */
static void make_dirs(const char *path) {
  char p[1024];
  snprintf(p, sizeof p, "%s", path);
  for (char *s = p + 1; *s; s++)
    if (*s == '/') {
      *s = 0;
      mkdir(p, 0755);
      *s = '/';
    }
  mkdir(p, 0755);
}

static int has_env(struct container *c, const char *name) {
  size_t n = strlen(name);
  for (int i = 0; i < c->envc; i++)
    if (strncmp(c->env[i], name, n) == 0 && c->env[i][n] == '=') return 1;
  return 0;
}

void run_container(void) {
  size_t len = 0;
  const char *why = NULL;
  struct container c;
  char *buf = slurp(CONTAINER_CONFIG, &len);
  if (!buf || parse(buf, len, &c, &why) != 0) {
    cline("hearth-init: bad container config %s: %s", CONTAINER_CONFIG, buf ? why : strerror(errno));
    finish(buf ? c.port : 0, KIND_NOT_STARTED, CODE_RUNTIME);
  }
  if (enter_root(&why) != 0) {
    cline("hearth-init: cannot mount the image's root disk /dev/vda: %s", why);
    finish(c.port, KIND_NOT_STARTED, CODE_RUNTIME);
  }
  struct identity id;
  char err[512];
  if (resolve_user(c.user, &id, err, sizeof err) != 0) {
    cline("hearth-init: %s", err);
    finish(c.port, KIND_NOT_STARTED, CODE_RUNTIME);
  }
  static char home[600];
  if (!has_env(&c, "HOME")) {
    snprintf(home, sizeof home, "HOME=%s", id.home);
    c.env[c.envc++] = home;
  }
  c.env[c.envc] = NULL;
  make_dirs(c.workdir);
  int pipefd[2]; /* the child's exec errno, if exec fails; closed by a successful exec */
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    cline("hearth-init: pipe: %s", strerror(errno));
    finish(c.port, KIND_NOT_STARTED, CODE_RUNTIME);
  }
  pid_t pid = fork();
  if (pid == 0) {
    int e = 0;
    close(pipefd[0]);
    setsid();
    int devnull = open("/dev/null", O_RDONLY); /* no stdin, as Docker without -i */
    if (devnull >= 0 && devnull != 0) {
      dup2(devnull, 0);
      close(devnull);
    }
    if (setgroups((size_t)id.ngroups, id.groups) != 0 || setgid(id.gid) != 0 || setuid(id.uid) != 0)
      e = errno;
    else if (chdir(c.workdir) != 0)
      e = errno;
    if (e == 0) {
      environ = c.env; /* execvp searches the container's PATH */
      execvp(c.argv[0], c.argv);
      e = errno;
    }
    ssize_t w = write(pipefd[1], &e, sizeof e);
    (void)w;
    _exit(CODE_CANNOT_RUN);
  }
  close(pipefd[1]);
  if (pid < 0) {
    cline("hearth-init: fork: %s", strerror(errno));
    finish(c.port, KIND_NOT_STARTED, CODE_RUNTIME);
  }
  int child_errno = 0;
  ssize_t r;
  while ((r = read(pipefd[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
  }
  close(pipefd[0]);
  int status = 0;
  pid_t done;
  while ((done = waitpid(-1, &status, 0)) != pid) /* PID 1 reaps every orphan meanwhile */
    if (done < 0 && errno != EINTR) break;
  if (r == (ssize_t)sizeof child_errno) {
    cline("hearth-init: cannot run %s as %s in %s: %s", c.argv[0], c.user[0] ? c.user : "root",
          c.workdir, strerror(child_errno));
    finish(c.port, KIND_NOT_STARTED, child_errno == ENOENT ? CODE_NOT_FOUND : CODE_CANNOT_RUN);
  }
  if (WIFSIGNALED(status)) finish(c.port, KIND_SIGNALLED, WTERMSIG(status));
  finish(c.port, KIND_EXITED, WEXITSTATUS(status));
}
