/*
 * Hearth test-guest init: PID 1 of the minimal Linux guest, linked statically.
 *
 * It mounts /dev, /proc and /sys, prints the ready marker on the console, signals the
 * boot-timer device if asked, configures the network from ip=, runs the checks named on the
 * kernel command line, serves one vsock connection if asked, prints a result line, holds if
 * asked and ends the VM (reboot by default, so that `reboot=k` resets through the i8042). Its
 * output lines are the contract tests match on:
 *
 *   HEARTH-GUEST-READY uptime=<s> cpus=<n> root=<initramfs|disk>
 *   HEARTH-NET ip=<addr> dev=<dev> mask=<mask> gw=<gw|none>   (only with ip=; or HEARTH-NET FAIL ...)
 *   HEARTH-CHECK <name> OK|FAIL <detail>
 *   HEARTH-PROBE <probe> <result>, then HEARTH-PROBES-DONE    (only with hearth.probe=)
 *   HEARTH-VSOCK listening port=<p>                          (only with hearth.vsock-port=)
 *   HEARTH-SERVE listening port=<p>, later HEARTH-SERVE stopped port=<p>  (only with hearth.serve=)
 *   HEARTH-GUEST-DONE failures=<n>
 *   HEARTH-HOLD seconds=<n|forever>                          (only with hearth.hold=)
 *
 * Command-line keys (all optional):
 *   ip=<client>:<server>:<gw>:<netmask>:<hostname>:<dev>:<autoconf>   the kernel's IP_PNP format;
 *                        the guest kernel has no IP_PNP, so the init configures the interface
 *                        itself (address, netmask, up; lo up; default route via gw; hostname)
 *   hearth.vsock-port=P  serve one host connection on vsock port P: print
 *                        "HEARTH-VSOCK listening port=P", accept within hearth.vsock-wait seconds
 *                        (default 60), read one line, answer "HEARTH-ECHO <line>", and report
 *                        HEARTH-CHECK vsock-echo
 *   hearth.serve=P       serve TCP port P (all addresses) from a child process while the init goes
 *                        on: one HTTP/1.0 response per connection naming the guest's host name;
 *                        "GET /stop" is answered, then the port closes (see serve_tcp)
 *   hearth.hold=N|forever  after the checks, stay up (idle) N seconds before ending the VM, so that
 *                        the host can reach the guest
 *   hearth.check=a,b,c   checks: cpus, rootfs, blk, net, ping, vsock, rng, all (ping: the gateway
 *                        of ip=, by ICMP echo; only when named, since it needs ip=)
 *   hearth.cpus=N        the number of online CPUs the cpus check expects
 *   hearth.probe=tcp:IP:PORT,udp:IP:PORT,spoof:SRC:IP:PORT,ping:IP   network probes after the
 *                        checks, each reported as "HEARTH-PROBE <probe> <result>" (see run_probes)
 *   hearth.boottimer=pio:0xPORT | mmio:0xADDR   write the boot-complete magic (123) there
 *   hearth.end=reboot|poweroff|halt|shell    how to end (default reboot)
 *
 * With CONTAINER_CONFIG in the initramfs it runs a container instead (container.c).
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
#include <arpa/inet.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <linux/vm_sockets.h>

#include "container.h"

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


/* The interface the init configured from ip=, for the checks that use the network. */
static struct {
  int up;
  char dev[IFNAMSIZ];
  struct in_addr addr, mask, gw;
} net;

/* The first interface backed by a device (lo, sit0 and other virtual ones have no device link). */
static int first_device_interface(char *out, size_t len) {
  DIR *d = opendir("/sys/class/net");
  struct dirent *e;
  int found = 0;
  while (!found && d && (e = readdir(d)) != NULL) {
    char dev[300];
    snprintf(dev, sizeof dev, "/sys/class/net/%s/device", e->d_name);
    if (e->d_name[0] != '.' && access(dev, F_OK) == 0 && strlen(e->d_name) < len) {
      strcpy(out, e->d_name);
      found = 1;
    }
  }
  if (d) closedir(d);
  return found;
}

static int set_flags_up(int sock, const char *dev) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, dev, IFNAMSIZ - 1);
  if (ioctl(sock, SIOCGIFFLAGS, &ifr) != 0) return -1;
  ifr.ifr_flags |= IFF_UP;
  return ioctl(sock, SIOCSIFFLAGS, &ifr);
}

static int set_inet(int sock, const char *dev, unsigned long request, struct in_addr value) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, dev, IFNAMSIZ - 1);
  struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
  sin->sin_family = AF_INET;
  sin->sin_addr = value;
  return ioctl(sock, request, &ifr);
}

static int add_default_route(int sock, const char *dev, struct in_addr gw) {
  struct rtentry rt;
  memset(&rt, 0, sizeof rt);
  struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
  struct sockaddr_in *mask = (struct sockaddr_in *)&rt.rt_genmask;
  struct sockaddr_in *via = (struct sockaddr_in *)&rt.rt_gateway;
  dst->sin_family = mask->sin_family = via->sin_family = AF_INET;
  via->sin_addr = gw;
  rt.rt_flags = RTF_UP | RTF_GATEWAY;
  rt.rt_dev = (char *)dev;
  return ioctl(sock, SIOCADDRT, &rt);
}

static void net_fail(const char *fmt, ...) {
  char detail[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  say("HEARTH-NET FAIL %s", detail);
  failures++;
}

/*
 * Configures the interface named by ip= (the kernel's IP_PNP syntax, which this kernel lacks):
 * ip=<client>:<server>:<gw>:<netmask>:<hostname>:<device>:<autoconf>. Empty fields take the
 * kernel's defaults (classful netmask, the first device-backed interface); off/none do nothing.
 */
static void configure_ip(void) {
  char spec[256];
  if (!param("ip", spec, sizeof spec) || strcmp(spec, "off") == 0 || strcmp(spec, "none") == 0)
    return;
  char *field[7] = {0};
  char *p = spec;
  for (int i = 0; i < 7 && p; i++) {
    field[i] = p;
    p = strchr(p, ':');
    if (p) *p++ = 0;
  }
  struct in_addr addr, mask, gw = {0};
  if (inet_pton(AF_INET, field[0], &addr) != 1) {
    net_fail("ip=%s: want a static <client>::<gw>:<netmask>:<host>:<dev>:off (no autoconfiguration here)",
             field[0]);
    return;
  }
  int have_gw = field[2] && *field[2];
  if (have_gw && inet_pton(AF_INET, field[2], &gw) != 1) {
    net_fail("ip= gateway '%s' is not an IPv4 address", field[2]);
    return;
  }
  if (field[3] && *field[3]) {
    if (inet_pton(AF_INET, field[3], &mask) != 1) {
      net_fail("ip= netmask '%s' is not an IPv4 address", field[3]);
      return;
    }
  } else {
    unsigned int a = ntohl(addr.s_addr) >> 24;
    mask.s_addr = htonl(a < 128 ? 0xff000000u : a < 192 ? 0xffff0000u : 0xffffff00u);
  }
  char dev[IFNAMSIZ];
  if (field[5] && *field[5]) {
    if (strlen(field[5]) >= sizeof dev) {
      net_fail("ip= device name '%s' is too long", field[5]);
      return;
    }
    strcpy(dev, field[5]);
  } else if (!first_device_interface(dev, sizeof dev)) {
    net_fail("ip=%s: no network interface backed by a device", field[0]);
    return;
  }
  if (field[4] && *field[4] && sethostname(field[4], strlen(field[4])) != 0)
    say("hearth-init: sethostname %s: %s", field[4], strerror(errno));

  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) {
    net_fail("socket(AF_INET): %s", strerror(errno));
    return;
  }
  const char *step = NULL;
  if (set_flags_up(sock, "lo") != 0) step = "lo up";
  else if (set_inet(sock, dev, SIOCSIFADDR, addr) != 0) step = "SIOCSIFADDR";
  else if (set_inet(sock, dev, SIOCSIFNETMASK, mask) != 0) step = "SIOCSIFNETMASK";
  else if (set_flags_up(sock, dev) != 0) step = "up";
  else if (have_gw && add_default_route(sock, dev, gw) != 0) step = "default route";
  int err = errno;
  close(sock);
  char a[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN] = "none";
  inet_ntop(AF_INET, &addr, a, sizeof a);
  inet_ntop(AF_INET, &mask, m, sizeof m);
  if (have_gw) inet_ntop(AF_INET, &gw, g, sizeof g);
  if (step) {
    net_fail("ip=%s dev=%s gw=%s: %s: %s", a, dev, g, step, strerror(err));
    return;
  }
  net.up = 1;
  strcpy(net.dev, dev);
  net.addr = addr;
  net.mask = mask;
  net.gw = gw;
  say("HEARTH-NET ip=%s dev=%s mask=%s gw=%s", a, dev, m, g);
}

/* hearth.hold=N|forever: stay up, idle, so that the host can reach the guest before it ends. */
static void hold(void) {
  char spec[32];
  if (!param("hearth.hold", spec, sizeof spec)) return;
  int forever = strcmp(spec, "forever") == 0;
  char *end;
  long seconds = forever ? 0 : strtol(spec, &end, 10);
  if (!forever && (*end || seconds < 0)) {
    say("hearth-init: bad hearth.hold=%s (want seconds or forever); not holding", spec);
    return;
  }
  say("HEARTH-HOLD seconds=%s", forever ? "forever" : spec);
  if (forever)
    for (;;) pause();
  struct timespec left = {seconds, 0};
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
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


static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static unsigned short inet_checksum(const void *data, size_t len) {
  const unsigned char *b = data;
  unsigned long sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (unsigned)(b[i] << 8 | b[i + 1]);
  if (len & 1) sum += (unsigned)b[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons((unsigned short)~sum);
}

/*
 * ICMP echo to `to` over a raw socket: up to `tries` requests, 1 s for each reply. Returns the
 * sequence number answered (its round trip in *rtt), 0 when none was, -1 with errno on failure.
 */
static int echo(struct in_addr to, int tries, double *rtt) {
  int sock = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (sock < 0) return -1;
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_addr = to};
  unsigned short id = (unsigned short)getpid() ^ 0x4854;
  for (int seq = 1; seq <= tries; seq++) {
    unsigned char req[64];
    memset(req, 0, sizeof req);
    struct icmphdr *h = (struct icmphdr *)req;
    h->type = ICMP_ECHO;
    h->un.echo.id = htons(id);
    h->un.echo.sequence = htons((unsigned short)seq);
    memcpy(req + sizeof *h, "hearth-ping", 11);
    h->checksum = inet_checksum(req, sizeof req);
    double sent = now_ms();
    if (sendto(sock, req, sizeof req, 0, (struct sockaddr *)&dst, sizeof dst) < 0) {
      int e = errno;
      close(sock);
      errno = e;
      return -1;
    }
    /* Replies to other requests (or other ICMP) are skipped until this one's second is over. */
    for (double left = 1000; left > 0; left = 1000 - (now_ms() - sent)) {
      struct pollfd pfd = {.fd = sock, .events = POLLIN};
      if (poll(&pfd, 1, (int)left + 1) <= 0) break;
      unsigned char buf[1500];
      struct sockaddr_in from;
      socklen_t flen = sizeof from;
      ssize_t n = recvfrom(sock, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
      if (n < (ssize_t)sizeof(struct iphdr)) continue;
      size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
      if ((size_t)n < ihl + sizeof(struct icmphdr) || from.sin_addr.s_addr != to.s_addr) continue;
      struct icmphdr *r = (struct icmphdr *)(buf + ihl);
      if (r->type == ICMP_ECHOREPLY && ntohs(r->un.echo.id) == id && ntohs(r->un.echo.sequence) == seq) {
        *rtt = now_ms() - sent;
        close(sock);
        return seq;
      }
    }
  }
  close(sock);
  return 0;
}

/* ICMP echo to the gateway of ip=: up to 5 requests, 1 s for each reply. */
static void check_ping(void) {
  if (!net.up || net.gw.s_addr == 0) {
    check("ping", 0, "no gateway to ping (needs ip=<client>::<gw>:... configured)");
    return;
  }
  char g[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &net.gw, g, sizeof g);
  double rtt = 0;
  const int tries = 5;
  int seq = echo(net.gw, tries, &rtt);
  if (seq < 0) check("ping", 0, "gw=%s dev=%s: %s", g, net.dev, strerror(errno));
  else if (seq > 0) check("ping", 1, "gw=%s dev=%s seq=%d rtt_ms=%.3f", g, net.dev, seq, rtt);
  else check("ping", 0, "gw=%s dev=%s: no echo reply to %d requests in %d s", g, net.dev, tries, tries);
}

/*
 * hearth.probe=<probe>,<probe>,...: what a hostile guest tries on the network, one line each:
 *   tcp:IP:PORT        connect within 3 s; "open data=<first line>" (the listener's greeting, up
 *                      to 2 s), "refused", "timeout" or "error <why>"
 *   udp:IP:PORT        send "HEARTH-UDP <own ip>"; "sent" (the host tells whether it arrived)
 *   spoof:SRC:IP:PORT  send "HEARTH-SPOOF <SRC>" over UDP from the forged source SRC, through a
 *                      raw socket that writes its own IPv4 header; "sent"
 *   ping:IP            ICMP echo, 3 requests; "reply seq=<n>" or "timeout"
 * Each prints "HEARTH-PROBE <probe> <result>"; probes do not count as failures.
 */
static int parse_target(char *text, struct sockaddr_in *to) {
  char *colon = strrchr(text, ':');
  if (!colon) return 0;
  *colon = 0;
  long port = strtol(colon + 1, NULL, 10);
  memset(to, 0, sizeof *to);
  to->sin_family = AF_INET;
  to->sin_port = htons((unsigned short)port);
  return port > 0 && port < 65536 && inet_pton(AF_INET, text, &to->sin_addr) == 1;
}

static void probe_tcp(const char *name, char *target) {
  struct sockaddr_in to;
  if (!parse_target(target, &to)) { say("HEARTH-PROBE %s error bad target", name); return; }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) { say("HEARTH-PROBE %s error socket: %s", name, strerror(errno)); return; }
  int r = connect(fd, (struct sockaddr *)&to, sizeof to);
  if (r < 0 && errno == EINPROGRESS) {
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    if (poll(&pfd, 1, 3000) <= 0) { say("HEARTH-PROBE %s timeout", name); close(fd); return; }
    int err = 0;
    socklen_t elen = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    r = err ? -1 : 0;
    errno = err;
  }
  if (r < 0) {
    if (errno == ECONNREFUSED) say("HEARTH-PROBE %s refused", name);
    else if (errno == ETIMEDOUT) say("HEARTH-PROBE %s timeout", name);
    else say("HEARTH-PROBE %s error %s", name, strerror(errno));
    close(fd);
    return;
  }
  char line[128] = "";
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  if (poll(&pfd, 1, 2000) > 0) {
    ssize_t n = read(fd, line, sizeof line - 1);
    line[n > 0 ? n : 0] = 0;
    line[strcspn(line, "\r\n")] = 0;
  }
  say("HEARTH-PROBE %s open data=%s", name, line);
  close(fd);
}

static void probe_udp(const char *name, char *target) {
  struct sockaddr_in to;
  if (!parse_target(target, &to)) { say("HEARTH-PROBE %s error bad target", name); return; }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  char msg[64], self[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &net.addr, self, sizeof self);
  int n = snprintf(msg, sizeof msg, "HEARTH-UDP %s", self);
  if (fd < 0 || sendto(fd, msg, n, 0, (struct sockaddr *)&to, sizeof to) != n)
    say("HEARTH-PROBE %s error %s", name, strerror(errno));
  else say("HEARTH-PROBE %s sent", name);
  if (fd >= 0) close(fd);
}

static void probe_spoof(const char *name, char *text) {
  char *rest = strchr(text, ':');
  struct in_addr src;
  struct sockaddr_in to;
  if (!rest) { say("HEARTH-PROBE %s error bad target", name); return; }
  *rest++ = 0;
  if (inet_pton(AF_INET, text, &src) != 1 || !parse_target(rest, &to)) {
    say("HEARTH-PROBE %s error bad target", name);
    return;
  }
  unsigned char pkt[128];
  memset(pkt, 0, sizeof pkt);
  int len = snprintf((char *)pkt + 28, sizeof pkt - 28, "HEARTH-SPOOF %s", text);
  struct iphdr *ip = (struct iphdr *)pkt;
  ip->version = 4;
  ip->ihl = 5;
  ip->ttl = 64;
  ip->protocol = IPPROTO_UDP;
  ip->saddr = src.s_addr;
  ip->daddr = to.sin_addr.s_addr;
  ip->tot_len = htons((unsigned short)(28 + len)); /* the kernel fills the checksum and id */
  unsigned short *udp = (unsigned short *)(pkt + 20);
  udp[0] = htons(40000);
  udp[1] = to.sin_port;
  udp[2] = htons((unsigned short)(8 + len));
  udp[3] = 0; /* no UDP checksum: allowed over IPv4 */
  int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd < 0 || sendto(fd, pkt, 28 + len, 0, (struct sockaddr *)&to, sizeof to) != 28 + len)
    say("HEARTH-PROBE %s error %s", name, strerror(errno));
  else say("HEARTH-PROBE %s sent", name);
  if (fd >= 0) close(fd);
}

static void run_probes(void) {
  char list[1024];
  if (!param("hearth.probe", list, sizeof list)) return;
  char *save = NULL;
  for (char *item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    char name[128], *colon = strchr(item, ':');
    snprintf(name, sizeof name, "%s", item);
    if (!colon) { say("HEARTH-PROBE %s error no kind", name); continue; }
    *colon++ = 0;
    if (strcmp(item, "tcp") == 0) probe_tcp(name, colon);
    else if (strcmp(item, "udp") == 0) probe_udp(name, colon);
    else if (strcmp(item, "spoof") == 0) probe_spoof(name, colon);
    else if (strcmp(item, "ping") == 0) {
      struct in_addr to;
      double rtt = 0;
      int seq = inet_pton(AF_INET, colon, &to) == 1 ? echo(to, 3, &rtt) : -2;
      if (seq == -2) say("HEARTH-PROBE %s error bad target", name);
      else if (seq < 0) say("HEARTH-PROBE %s error %s", name, strerror(errno));
      else if (seq == 0) say("HEARTH-PROBE %s timeout", name);
      else say("HEARTH-PROBE %s reply seq=%d", name, seq);
    } else say("HEARTH-PROBE %s error unknown kind", name);
  }
  say("HEARTH-PROBES-DONE");
}

static void check_vsock(void) {
  int fd = open("/dev/vsock", O_RDONLY);
  unsigned int cid = 0;
  int ok = fd >= 0 && ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) == 0 && cid > 2;
  check("vsock", ok, "cid=%u%s", cid, fd < 0 ? " (no /dev/vsock)" : "");
  if (fd >= 0) close(fd);
}


/* Waits up to ms for fd to be readable; 1 when it is, 0 on timeout, -1 on error. */
static int wait_readable(int fd, int ms) {
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  for (double end = now_ms() + ms;;) {
    int left = (int)(end - now_ms());
    int r = poll(&pfd, 1, left < 0 ? 0 : left);
    if (r >= 0 || errno != EINTR) return r > 0 ? 1 : r;
  }
}

/*
 * hearth.vsock-port=P: listen on vsock port P, accept one host connection within
 * hearth.vsock-wait seconds, read one line (10 s) and answer "HEARTH-ECHO <line>".
 */
static void serve_vsock_echo(void) {
  char spec[16], wait_spec[16] = "60";
  if (!param("hearth.vsock-port", spec, sizeof spec)) return;
  param("hearth.vsock-wait", wait_spec, sizeof wait_spec);
  char *end;
  unsigned long port = strtoul(spec, &end, 10);
  int wait_s = atoi(wait_spec);
  if (*end || port == 0 || port > 0xffffffffUL || wait_s <= 0) {
    check("vsock-echo", 0, "bad hearth.vsock-port=%s or hearth.vsock-wait=%s", spec, wait_spec);
    return;
  }
  int lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = (unsigned)port};
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 1) != 0) {
    check("vsock-echo", 0, "port=%lu listen: %s", port, strerror(errno));
    if (lfd >= 0) close(lfd);
    return;
  }
  say("HEARTH-VSOCK listening port=%lu", port);
  int r = wait_readable(lfd, wait_s * 1000);
  struct sockaddr_vm peer;
  socklen_t plen = sizeof peer;
  int cfd = r > 0 ? accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC) : -1;
  close(lfd);
  if (cfd < 0) {
    check("vsock-echo", 0, "port=%lu: %s", port,
          r == 0 ? "no host connection in time" : strerror(errno));
    return;
  }
  char line[256];
  size_t len = 0;
  int done = 0;
  while (!done && len < sizeof line - 1 && wait_readable(cfd, 10000) > 0) {
    ssize_t n = read(cfd, line + len, sizeof line - 1 - len);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n && !done; i++)
      if (line[len + i] == '\n') {
        done = 1;
        n = i;
      }
    len += (size_t)n;
  }
  line[len] = 0;
  if (!done) {
    check("vsock-echo", 0, "port=%lu peer-cid=%u: no line from the host within 10 s (got '%s')",
          port, peer.svm_cid, line);
    close(cfd);
    return;
  }
  char answer[300];
  int alen = snprintf(answer, sizeof answer, "HEARTH-ECHO %s\n", line);
  ssize_t w = write(cfd, answer, (size_t)alen);
  int err = errno;
  close(cfd);
  check("vsock-echo", w == alen, "port=%lu peer-cid=%u line=%s%s%s", port, peer.svm_cid, line,
        w == alen ? "" : " write: ", w == alen ? "" : strerror(err));
}

/* Reads 64 bytes from /dev/hwrng (the virtio-rng device when it is the current source). */
/*
 * hearth.serve=P: a TCP server on port P in a child process, so that the init goes on (to
 * hearth.hold, say) while it serves: what a readiness probe checks. Each connection's request (at
 * most 511 bytes, 2 s) gets one "HTTP/1.0 200" response, "Hello from Hearth VM <hostname>"; a
 * connection that sends nothing (a TCP probe) is just closed. A request whose first line is
 * "GET /stop" is answered, then the server closes its port and ends, so that from then on a probe
 * of P is refused.
 */
static void serve_tcp(void) {
  char spec[16];
  if (!param("hearth.serve", spec, sizeof spec)) return;
  char *end;
  long port = strtol(spec, &end, 10);
  if (*end || port < 1 || port > 65535) {
    say("hearth-init: bad hearth.serve=%s (want a TCP port)", spec);
    return;
  }
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 16) != 0) {
    say("HEARTH-SERVE FAIL port=%ld: %s", port, strerror(errno));
    if (s >= 0) close(s);
    return;
  }
  pid_t pid = fork();
  if (pid != 0) {
    close(s);
    if (pid < 0) say("HEARTH-SERVE FAIL port=%ld: fork: %s", port, strerror(errno));
    else say("HEARTH-SERVE listening port=%ld", port);
    return;
  }
  char host[65] = {0};
  if (gethostname(host, sizeof host - 1) != 0 || !host[0]) strcpy(host, "(unnamed)");
  for (int stop = 0; !stop;) {
    int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      break;
    }
    char req[512];
    size_t n = 0;
    req[0] = 0;
    while (n < sizeof req - 1 && wait_readable(c, 2000)) {
      ssize_t r = read(c, req + n, sizeof req - 1 - n);
      if (r <= 0) break;
      n += (size_t)r;
      req[n] = 0;
      if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n")) break;
    }
    if (n > 0) {
      stop = strncmp(req, "GET /stop ", 10) == 0;
      char resp[256];
      int blen = (int)strlen(host) + 22; /* "Hello from Hearth VM " + host + "\n" */
      int len = snprintf(resp, sizeof resp,
                         "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                         "Content-Length: %d\r\n\r\nHello from Hearth VM %s\n",
                         blen, host);
      if (len > 0) send(c, resp, (size_t)len < sizeof resp ? (size_t)len : sizeof resp - 1, MSG_NOSIGNAL);
    }
    close(c);
  }
  close(s);
  say("HEARTH-SERVE stopped port=%ld", port);
  _exit(0);
}

static void check_rng(void) {
  unsigned char buf[64];
  size_t got = 0;
  int err = 0;
  int fd = open("/dev/hwrng", O_RDONLY | O_CLOEXEC);
  if (fd < 0) err = errno;
  while (fd >= 0 && got < sizeof buf) {
    ssize_t n = read(fd, buf + got, sizeof buf - got);
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    got += (size_t)n;
  }
  if (fd >= 0) close(fd);
  int nonzero = 0;
  for (size_t i = 0; i < got; i++) nonzero += buf[i] != 0;
  char cur[64] = "none";
  read_file("/sys/class/misc/hw_random/rng_current", cur, sizeof cur);
  strtok(cur, "\n");
  if (got < sizeof buf)
    check("rng", 0, "read=%zu of %zu from /dev/hwrng: %s source=%s", got, sizeof buf,
          err ? strerror(err) : "short", cur);
  else
    check("rng", nonzero > 0, "read=%zu nonzero=%d first=%02x%02x%02x%02x source=%s", got, nonzero,
          buf[0], buf[1], buf[2], buf[3], cur);
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
  if (access(CONTAINER_CONFIG, R_OK) == 0) { /* a node's container VM: see container.c */
    configure_ip();
    run_container();
  }
  say("HEARTH-GUEST-READY uptime=%.3f cpus=%d root=%s", uptime(), online_cpus(),
      access(ROOTFS_STAMP, R_OK) == 0 ? "disk" : "initramfs");
  configure_ip();
  char checks[256];
  if (param("hearth.check", checks, sizeof checks)) {
    if (wanted(checks, "cpus")) check_cpus();
    if (wanted(checks, "rootfs")) check_rootfs();
    if (wanted(checks, "blk")) check_blk();
    if (wanted(checks, "net")) check_net();
    if (strcmp(checks, "all") != 0 && wanted(checks, "ping")) check_ping(); /* needs ip= */
    if (wanted(checks, "vsock")) check_vsock();
    if (wanted(checks, "rng")) check_rng();
  }
  run_probes();
  serve_vsock_echo();
  serve_tcp();
  say("HEARTH-GUEST-DONE failures=%d", failures);
  hold();
  end_vm();
  return 0;
}
