/*
 * Hearth test-guest init: PID 1 of the minimal Linux guest, linked statically.
 *
 * It mounts /dev, /proc and /sys, prints the ready marker on the console, signals the
 * boot-timer device if asked, runs the checks named on the kernel command line, prints a
 * result line and ends the VM (reboot by default, so that `reboot=k` resets through the
 * i8042). Its output lines are the contract tests match on:
 *
 *   HEARTH-GUEST-READY uptime=<s> cpus=<n> root=<initramfs|disk>
 *   HEARTH-CHECK <name> OK|FAIL <detail>
 *   HEARTH-GUEST-DONE failures=<n>
 *
 * Command-line keys (all optional):
 *   hearth.check=a,b,c   checks: cpus, rootfs, blk, net, vsock, rng, all
 *   hearth.cpus=N        the number of online CPUs the cpus check expects
 *   hearth.boottimer=pio:0xPORT | mmio:0xADDR   write the boot-complete magic (123) there
 *   hearth.end=reboot|poweroff|halt|shell    how to end (default reboot)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <linux/vm_sockets.h>

#define BOOT_MAGIC 123
#define ROOTFS_STAMP "/etc/hearth-rootfs"

static char cmdline[4096];
static int failures;

static void say(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
  buf[n++] = '\n';
  ssize_t w = write(1, buf, n);
  (void)w;
}

static void check(const char *name, int ok, const char *fmt, ...) {
  char detail[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  say("HEARTH-CHECK %s %s %s", name, ok ? "OK" : "FAIL", detail);
  if (!ok) failures++;
}

/* Value of key=value on the kernel command line, copied into out; 0 when absent. */
static int param(const char *key, char *out, size_t len) {
  size_t klen = strlen(key);
  const char *p = cmdline;
  while ((p = strstr(p, key)) != NULL) {
    if ((p == cmdline || p[-1] == ' ') && p[klen] == '=') {
      const char *v = p + klen + 1;
      size_t n = strcspn(v, " \n");
      if (n >= len) n = len - 1;
      memcpy(out, v, n);
      out[n] = 0;
      return 1;
    }
    p += klen;
  }
  return 0;
}

static int read_file(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, len - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = 0;
  return (int)n;
}

static double uptime(void) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int online_cpus(void) {
  char buf[256];
  if (read_file("/sys/devices/system/cpu/online", buf, sizeof buf) < 0) return 1;
  int count = 0;
  char *s = buf;
  while (*s && *s != '\n') {
    long a = strtol(s, &s, 10), b = a;
    if (*s == '-') b = strtol(s + 1, &s, 10);
    count += (int)(b - a + 1);
    if (*s == ',') s++;
  }
  return count;
}

static void mount_basics(void) {
  mkdir("/dev", 0755);
  mkdir("/proc", 0555);
  mkdir("/sys", 0555);
  mkdir("/tmp", 01777);
  /* devtmpfs may already be mounted by the kernel (DEVTMPFS_MOUNT applies only to a disk root). */
  if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) != 0 && errno != EBUSY)
    say("hearth-init: mount /dev: %s", strerror(errno));
  mount("proc", "/proc", "proc", 0, NULL);
  mount("sysfs", "/sys", "sysfs", 0, NULL);
  mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
  int fd = open("/dev/console", O_RDWR);
  if (fd >= 0) {
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2) close(fd);
  }
}

static void signal_boot_timer(void) {
  char spec[64];
  if (!param("hearth.boottimer", spec, sizeof spec)) return;
  unsigned long addr = strtoul(strchr(spec, ':') ? strchr(spec, ':') + 1 : spec, NULL, 0);
  if (strncmp(spec, "pio:", 4) == 0) {
    if (ioperm(addr, 1, 1) == 0) outb(BOOT_MAGIC, addr);
    else say("hearth-init: ioperm 0x%lx: %s", addr, strerror(errno));
  } else if (strncmp(spec, "mmio:", 5) == 0) {
    int fd = open("/dev/mem", O_RDWR | O_SYNC);
    long page = sysconf(_SC_PAGESIZE);
    void *map = fd < 0 ? MAP_FAILED
                       : mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, addr & ~(page - 1));
    if (map == MAP_FAILED) {
      say("hearth-init: map boot timer 0x%lx: %s", addr, strerror(errno));
    } else {
      *((volatile unsigned char *)map + (addr & (page - 1))) = BOOT_MAGIC;
      munmap(map, page);
    }
    if (fd >= 0) close(fd);
  } else {
    say("hearth-init: bad hearth.boottimer=%s (want pio:0xPORT or mmio:0xADDR)", spec);
  }
}

static void check_cpus(void) {
  char want[16];
  int n = online_cpus();
  if (param("hearth.cpus", want, sizeof want)) check("cpus", n == atoi(want), "online=%d expected=%s", n, want);
  else check("cpus", n >= 1, "online=%d", n);
}

/* The root is the ext4 disk itself, or the initramfs mounts /dev/vda and reads the stamp. */
static void check_rootfs(void) {
  char buf[128];
  const char *stamp = ROOTFS_STAMP;
  if (access(ROOTFS_STAMP, R_OK) != 0) {
    mkdir("/mnt", 0755);
    if (mount("/dev/vda", "/mnt", "ext4", MS_RDONLY, NULL) != 0) {
      check("rootfs", 0, "mount /dev/vda ext4: %s", strerror(errno));
      return;
    }
    stamp = "/mnt" ROOTFS_STAMP;
  }
  int n = read_file(stamp, buf, sizeof buf);
  if (n > 0 && buf[n - 1] == '\n') buf[n - 1] = 0;
  check("rootfs", n > 0 && strncmp(buf, "HEARTH-ROOTFS", 13) == 0, "%s: %s", stamp,
        n > 0 ? buf : strerror(errno));
  if (stamp[1] == 'm') umount("/mnt");
}

static void check_blk(void) {
  char buf[64];
  int n = read_file("/sys/block/vda/size", buf, sizeof buf);
  check("blk", n > 0, "vda sectors=%s", n > 0 ? strtok(buf, "\n") : "missing");
}

static void check_net(void) {
  DIR *d = opendir("/sys/class/net");
  char names[256] = "";
  int found = 0;
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) {
    char dev[300];
    /* Only interfaces backed by a device: lo, sit0 and other virtual ones have no device link. */
    snprintf(dev, sizeof dev, "/sys/class/net/%s/device", e->d_name);
    if (e->d_name[0] == '.' || access(dev, F_OK) != 0) continue;
    found++;
    strncat(names, e->d_name, sizeof names - strlen(names) - 2);
    strcat(names, " ");
  }
  if (d) closedir(d);
  check("net", found > 0, "interfaces=%s", found ? names : "none");
}

static void check_vsock(void) {
  int fd = open("/dev/vsock", O_RDONLY);
  unsigned int cid = 0;
  int ok = fd >= 0 && ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) == 0 && cid > 2;
  check("vsock", ok, "cid=%u%s", cid, fd < 0 ? " (no /dev/vsock)" : "");
  if (fd >= 0) close(fd);
}

static void check_rng(void) {
  unsigned char buf[16];
  int fd = open("/dev/hwrng", O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
  if (fd >= 0) close(fd);
  char cur[64] = "none";
  read_file("/sys/class/misc/hw_random/rng_current", cur, sizeof cur);
  check("rng", n == (ssize_t)sizeof buf, "read=%zd source=%s", n, strtok(cur, "\n"));
}

static int wanted(const char *list, const char *name) {
  if (strcmp(list, "all") == 0) return 1;
  size_t len = strlen(name);
  for (const char *p = list; (p = strstr(p, name)) != NULL; p += len)
    if ((p == list || p[-1] == ',') && (p[len] == 0 || p[len] == ',')) return 1;
  return 0;
}

static void end_vm(void) {
  char how[16] = "reboot";
  param("hearth.end", how, sizeof how);
  sync();
  if (strcmp(how, "shell") == 0) {
    execl("/bin/sh", "sh", (char *)NULL);
    say("hearth-init: exec /bin/sh: %s", strerror(errno));
  }
  if (strcmp(how, "poweroff") == 0) reboot(RB_POWER_OFF);
  else if (strcmp(how, "halt") == 0) reboot(RB_HALT_SYSTEM);
  else reboot(RB_AUTOBOOT);
  for (;;) pause(); /* PID 1 must not exit */
}

int main(void) {
  mount_basics();
  read_file("/proc/cmdline", cmdline, sizeof cmdline);
  signal_boot_timer();
  say("HEARTH-GUEST-READY uptime=%.3f cpus=%d root=%s", uptime(), online_cpus(),
      access(ROOTFS_STAMP, R_OK) == 0 ? "disk" : "initramfs");
  char checks[256];
  if (param("hearth.check", checks, sizeof checks)) {
    if (wanted(checks, "cpus")) check_cpus();
    if (wanted(checks, "rootfs")) check_rootfs();
    if (wanted(checks, "blk")) check_blk();
    if (wanted(checks, "net")) check_net();
    if (wanted(checks, "vsock")) check_vsock();
    if (wanted(checks, "rng")) check_rng();
  }
  say("HEARTH-GUEST-DONE failures=%d", failures);
  end_vm();
  return 0;
}
