/* A tiny HTTP server guest: a VM that serves a TCP port on this host's KVM, where Linux cannot run.
 * It takes its address from the kernel argument the agent writes,
 *   ip=<client>::<gateway>:<netmask>:<hostname>:<device>:off
 * and its port from httpd.port=<n> (8080 without it), answers ARP requests for its address and ICMP
 * echo, and answers every TCP connection to the port with one HTTP/1.0 response naming the VM:
 *   SYN -> SYN-ACK; the first data -> ACK + response + FIN in one segment; the peer's FIN -> ACK
 *   (and our FIN where we sent none). A retransmitted SYN, request or FIN gets our segment again;
 *   anything for another port, or for no connection, gets a RST.
 * Replies go to the Ethernet source of what they answer (the node's bridge, or a peer on it), so
 * the guest needs no ARP table. Every length and offset read from a frame is checked against the
 * frame. The guest sleeps in hlt between frames, woken by the virtio-net device's interrupt. */
#include "virtq.h"

#define NET_HDR 12
#define BUF 2048
#define NRX 8
#define MAX_CONN 16
#define VECTOR 0x40

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

static u8 rx_buf[NRX][BUF] __attribute__((aligned(64)));
static u8 tx_buf[BUF] __attribute__((aligned(64)));
static struct vq *rxq, *txq;
static u64 net_base;
static u8 my_mac[6];
static u32 my_ip;
static u16 my_port; /* no initialiser: a .data section would share the text segment */
static char hostname[64];
static u8 response[256];
static u32 response_len;
static u64 served;

/* ---- bytes and checksums -------------------------------------------------------------------- */

static u16 get16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static u32 get32(const u8 *p) { return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3]; }
static void put16(u8 *p, u16 v) {
  p[0] = (u8)(v >> 8);
  p[1] = (u8)v;
}
static void put32(u8 *p, u32 v) {
  put16(p, (u16)(v >> 16));
  put16(p + 2, (u16)v);
}

static u32 csum_add(u32 sum, const u8 *p, u32 n) {
  for (u32 i = 0; i + 1 < n; i += 2) sum += get16(p + i);
  if (n & 1) sum += (u32)p[n - 1] << 8;
  return sum;
}
static u16 csum_fold(u32 sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (u16)~sum;
}

static void put_ip(u32 ip) {
  for (int i = 3; i >= 0; i--) {
    put_dec((ip >> (8 * i)) & 0xff);
    if (i) putc('.');
  }
}

/* ---- sending -------------------------------------------------------------------------------- */

/* The Ethernet frame to dst of the given type; returns where its payload starts. */
static u8 *frame_to(const u8 *dst, u16 type) {
  memset(tx_buf, 0, NET_HDR);
  u8 *f = tx_buf + NET_HDR;
  for (int i = 0; i < 6; i++) {
    f[i] = dst[i];
    f[6 + i] = my_mac[i];
  }
  put16(f + 12, type);
  return f + 14;
}

static void send_frame(u32 payload) {
  u32 len = NET_HDR + 14 + payload;
  if (len < NET_HDR + 60) { /* pad to Ethernet's minimum */
    memset(tx_buf + len, 0, NET_HDR + 60 - len);
    len = NET_HDR + 60;
  }
  txq->desc[0] = (struct desc){(u64)tx_buf, len, 0, 0};
  submit(txq, 0);
  notify(txq);
  if (!wait_used(txq)) puts("httpd: send timed out\n");
}

/* An IPv4 header of protocol proto and payload length n to dst; returns the payload. */
static u8 *ip_to(const u8 *mac, u32 dst, u8 proto, u32 n) {
  u8 *ip = frame_to(mac, 0x0800);
  memset(ip, 0, 20);
  ip[0] = 0x45;
  put16(ip + 2, (u16)(20 + n));
  ip[6] = 0x40; /* DF */
  ip[8] = 64;
  ip[9] = proto;
  put32(ip + 12, my_ip);
  put32(ip + 16, dst);
  put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
  return ip + 20;
}

static void tcp_send_from(u16 sport, const u8 *mac, u32 dst, u16 dport, u32 seq, u32 ack, u8 flags,
                          const u8 *data, u32 n) {
  u8 *t = ip_to(mac, dst, 6, 20 + n);
  memset(t, 0, 20);
  put16(t, sport);
  put16(t + 2, dport);
  put32(t + 4, seq);
  put32(t + 8, ack);
  t[12] = 5 << 4;
  t[13] = flags;
  put16(t + 14, 8192);
  memcpy(t + 20, data, n);
  u8 pseudo[12];
  put32(pseudo, my_ip);
  put32(pseudo + 4, dst);
  pseudo[8] = 0;
  pseudo[9] = 6;
  put16(pseudo + 10, (u16)(20 + n));
  put16(t + 16, csum_fold(csum_add(csum_add(0, pseudo, 12), t, 20 + n)));
  send_frame(20 + 20 + n);
}

static void tcp_send(const u8 *mac, u32 dst, u16 dport, u32 seq, u32 ack, u8 flags, const u8 *data,
                     u32 n) {
  tcp_send_from(my_port, mac, dst, dport, seq, ack, flags, data, n);
}

/* ---- TCP ------------------------------------------------------------------------------------ */

enum { FREE, SYN_RCVD, ESTABLISHED, DONE };

struct conn {
  u32 state;
  u32 ip;
  u16 port;
  u8 mac[6];
  u32 irs; /* the peer's first sequence number */
  u32 iss; /* ours */
  u32 rcv_nxt;
  u32 snd_nxt;
  u8 responded; /* our response (with FIN) is out */
  u8 fin_sent;
  u8 fin_acked;
  u8 fin_rcvd;
  u64 age;
};
static struct conn conns[MAX_CONN];
static u64 conn_clock;

static struct conn *find(u32 ip, u16 port) {
  for (int i = 0; i < MAX_CONN; i++) {
    if (conns[i].state != FREE && conns[i].ip == ip && conns[i].port == port) return &conns[i];
  }
  return 0;
}

/* A free slot, else the oldest finished one, else the oldest. */
static struct conn *alloc(void) {
  struct conn *best = &conns[0];
  for (int i = 0; i < MAX_CONN; i++) {
    struct conn *c = &conns[i];
    if (c->state == FREE) return c;
    int done = c->state == DONE, best_done = best->state == DONE;
    if (done > best_done || (done == best_done && c->age < best->age)) best = c;
  }
  return best;
}

static u32 iss_now(void) {
  u32 lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return lo ^ (hi << 16);
}

static void ack_only(struct conn *c) {
  tcp_send(c->mac, c->ip, c->port, c->snd_nxt, c->rcv_nxt, TCP_ACK, 0, 0);
}

/* Our response and FIN, or our bare FIN where the peer closed without asking: sent again. */
static void resend_fin(struct conn *c) {
  if (c->responded) {
    tcp_send(c->mac, c->ip, c->port, c->iss + 1, c->rcv_nxt, TCP_ACK | TCP_PSH | TCP_FIN, response,
             response_len);
  } else {
    tcp_send(c->mac, c->ip, c->port, c->snd_nxt - 1, c->rcv_nxt, TCP_ACK | TCP_FIN, 0, 0);
  }
}

static void respond(struct conn *c) {
  c->responded = 1;
  c->fin_sent = 1;
  c->snd_nxt = c->iss + 1 + response_len + 1;
  resend_fin(c);
  served++;
  puts("httpd: served ");
  put_dec(served);
  puts(" to ");
  put_ip(c->ip);
  puts("\n");
}

/* seq a comes before b, modulo 2^32 */
static int before(u32 a, u32 b) { return (int)(a - b) < 0; }

static void tcp(const u8 *mac, u32 src, const u8 *seg, u32 len) {
  if (len < 20) return;
  u32 doff = (u32)(seg[12] >> 4) * 4;
  if (doff < 20 || doff > len) return;
  u16 sport = get16(seg), dport = get16(seg + 2);
  u32 seq = get32(seg + 4), ack = get32(seg + 8);
  u8 flags = seg[13];
  u32 dlen = len - doff;
  if (flags & TCP_RST) {
    struct conn *c = find(src, sport);
    if (c && dport == my_port) c->state = FREE;
    return;
  }
  struct conn *c = dport == my_port ? find(src, sport) : 0;
  if (dport == my_port && (flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
    if (!c || c->irs != seq) { /* a new connection, not our SYN-ACK lost */
      c = alloc();
      memset(c, 0, sizeof *c);
      c->state = SYN_RCVD;
      c->ip = src;
      c->port = sport;
      c->irs = seq;
      c->iss = iss_now();
      c->rcv_nxt = seq + 1;
      c->snd_nxt = c->iss + 1;
    }
    for (int i = 0; i < 6; i++) c->mac[i] = mac[i];
    c->age = ++conn_clock;
    tcp_send(mac, src, sport, c->iss, c->rcv_nxt, TCP_SYN | TCP_ACK, 0, 0);
    return;
  }
  if (!c || c->state == FREE) { /* closed port, or no such connection */
    u32 rseq = (flags & TCP_ACK) ? ack : 0;
    u8 rflags = (flags & TCP_ACK) ? TCP_RST : TCP_RST | TCP_ACK;
    u32 rack = seq + dlen + ((flags & TCP_SYN) ? 1 : 0) + ((flags & TCP_FIN) ? 1 : 0);
    tcp_send_from(dport, mac, src, sport, rseq, rack, rflags, 0, 0);
    return;
  }
  if (!(flags & TCP_ACK)) return; /* past the SYN, every segment acknowledges */
  c->age = ++conn_clock;
  if (c->state == SYN_RCVD) {
    if (ack != c->iss + 1) {
      tcp_send(mac, src, sport, ack, 0, TCP_RST, 0, 0);
      return;
    }
    c->state = ESTABLISHED;
  }
  if (c->fin_sent && ack == c->snd_nxt) c->fin_acked = 1;
  if (dlen) {
    if (seq == c->rcv_nxt) {
      c->rcv_nxt += dlen;
      if (!c->responded && !c->fin_sent) respond(c);
      else ack_only(c);
    } else if (before(seq, c->rcv_nxt) && c->fin_sent && !c->fin_acked) {
      resend_fin(c); /* the request again: our answer was lost */
    } else {
      ack_only(c); /* old or out of order: say what we expect */
    }
  }
  if (flags & TCP_FIN) {
    u32 fseq = seq + dlen;
    if (fseq == c->rcv_nxt) {
      c->rcv_nxt++;
      c->fin_rcvd = 1;
      if (!c->fin_sent) {
        c->fin_sent = 1;
        c->snd_nxt++;
        resend_fin(c);
      } else {
        ack_only(c);
      }
    } else if (fseq + 1 == c->rcv_nxt) { /* their FIN again: our ACK (or FIN) was lost */
      if (c->fin_sent && !c->fin_acked) resend_fin(c);
      else ack_only(c);
    }
  }
  if (c->fin_rcvd && c->fin_acked) c->state = DONE; /* kept to answer a late FIN */
}

/* ---- IPv4, ICMP, ARP ------------------------------------------------------------------------ */

static void icmp(const u8 *mac, u32 src, const u8 *m, u32 len) {
  if (len < 8 || len > BUF - NET_HDR - 14 - 20 || m[0] != 8 || m[1] != 0) return;
  u8 *r = ip_to(mac, src, 1, len);
  memcpy(r, m, len);
  r[0] = 0;
  put16(r + 2, 0);
  put16(r + 2, csum_fold(csum_add(0, r, len)));
  send_frame(20 + len);
}

static void ipv4(const u8 *mac, const u8 *ip, u32 n) {
  if (n < 20 || ip[0] >> 4 != 4) return;
  u32 ihl = (u32)(ip[0] & 15) * 4;
  u32 total = get16(ip + 2);
  if (ihl < 20 || total < ihl || total > n) return;
  if (get16(ip + 6) & 0x3fff) return; /* a fragment: nothing here is that large */
  if (csum_fold(csum_add(0, ip, ihl)) != 0) return;
  if (get32(ip + 16) != my_ip) return;
  u32 src = get32(ip + 12);
  if (ip[9] == 1) icmp(mac, src, ip + ihl, total - ihl);
  else if (ip[9] == 6) tcp(mac, src, ip + ihl, total - ihl);
}

static void arp(const u8 *a, u32 n) {
  if (n < 28 || get16(a) != 1 || get16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4) return;
  if (get16(a + 6) != 1 || get32(a + 24) != my_ip) return;
  u8 *r = frame_to(a + 8, 0x0806);
  put16(r, 1);
  put16(r + 2, 0x0800);
  r[4] = 6;
  r[5] = 4;
  put16(r + 6, 2);
  memcpy(r + 8, my_mac, 6);
  put32(r + 14, my_ip);
  memcpy(r + 18, a + 8, 10); /* the asker's MAC and address */
  send_frame(28);
}

static void frame(const u8 *f, u32 n) {
  if (n < 14) return;
  u16 type = get16(f + 12);
  if (type == 0x0806) arp(f + 14, n - 14);
  else if (type == 0x0800) ipv4(f + 6, f + 14, n - 14);
}

/* ---- interrupts ----------------------------------------------------------------------------- */

struct idt_entry {
  u16 off0;
  u16 sel;
  u8 ist;
  u8 attr;
  u16 off1;
  u32 off2;
  u32 zero;
} __attribute__((packed));
static struct idt_entry idt[256] __attribute__((aligned(16)));

/* Every vector: end of interrupt at the LAPIC, and back to the hlt loop. */
void irq_entry(void);
__asm__(".text\n.globl irq_entry\nirq_entry:\n push %rax\n mov $0xfee000b0, %eax\n"
        " movl $0, (%rax)\n pop %rax\n iretq\n");

static void ioapic_write(u32 reg, u32 v) {
  *(volatile u32 *)0xfec00000UL = reg;
  *(volatile u32 *)0xfec00010UL = v;
}

/* Routes the device's IRQ (an edge, through the IOAPIC) to this CPU, with the PIC masked. */
static void interrupts(u32 irq) {
  u16 cs;
  __asm__ volatile("mov %%cs, %0" : "=r"(cs));
  u64 off = (u64)irq_entry;
  for (int i = 0; i < 256; i++) {
    idt[i] = (struct idt_entry){(u16)off, cs, 0, 0x8e, (u16)(off >> 16), (u32)(off >> 32), 0};
  }
  struct {
    u16 limit;
    u64 base;
  } __attribute__((packed)) idtr = {sizeof idt - 1, (u64)idt};
  __asm__ volatile("lidt %0" : : "m"(idtr));
  outb(0x21, 0xff);
  outb(0xa1, 0xff);
  volatile u32 *lapic = (volatile u32 *)0xfee00000UL;
  lapic[0x80 / 4] = 0;     /* task priority: accept all */
  lapic[0xf0 / 4] = 0x1ff; /* enabled, spurious vector 0xff */
  u32 apic_id = lapic[0x20 / 4] >> 24;
  if (irq < 24) {
    ioapic_write(0x11 + 2 * irq, apic_id << 24);
    ioapic_write(0x10 + 2 * irq, VECTOR); /* fixed, physical, active high, edge, unmasked */
  }
}

/* ---- set-up --------------------------------------------------------------------------------- */

/* A dotted quad at *s; advances *s past it. */
static int parse_ip(const char **s, u32 *out) {
  const char *p = *s;
  u32 v = 0;
  for (int part = 0; part < 4; part++) {
    if (part && *p++ != '.') return 0;
    u32 octet = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 3) octet = octet * 10 + (u32)(*p++ - '0'), digits++;
    if (!digits || octet > 255) return 0;
    v = v << 8 | octet;
  }
  *s = p;
  *out = v;
  return 1;
}

/* ip=<client>:<server>:<gateway>:<netmask>:<hostname>:...; only client and hostname matter here. */
static int parse_ip_arg(const char *v) {
  if (!v || !parse_ip(&v, &my_ip)) return 0;
  for (int colon = 0; colon < 4; colon++) { /* past client, server, gateway and netmask */
    while (*v && *v != ':' && *v != ' ') v++;
    if (*v != ':') return 1;
    v++;
  }
  u32 n = 0;
  for (; n < sizeof hostname - 1 && v[n] && v[n] != ':' && v[n] != ' '; n++) {
    char c = v[n];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '.';
    hostname[n] = ok ? c : '_';
  }
  hostname[n] = 0;
  return 1;
}

static void append(const char *s) {
  while (*s && response_len < sizeof response - 1) response[response_len++] = (u8)*s++;
}

static void build_response(void) {
  char body[96];
  u32 b = 0;
  const char *parts[] = {"Hello from Hearth VM ", hostname[0] ? hostname : "(unnamed)", "\n"};
  for (int i = 0; i < 3; i++)
    for (const char *s = parts[i]; *s && b < sizeof body - 1; s++) body[b++] = *s;
  body[b] = 0;
  char len[8];
  int i = 7;
  len[i] = 0;
  u32 v = b;
  do len[--i] = (char)('0' + v % 10), v /= 10;
  while (v && i > 0);
  append("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ");
  append(&len[i]);
  append("\r\n\r\n");
  append(body);
}

static void post_rx(u16 i) {
  rxq->desc[i] = (struct desc){(u64)rx_buf[i], BUF, D_WRITE, 0};
  submit(rxq, i);
}

void guest_main(const u8 *bp) {
  map_high();
  const char *cmdline = boot_cmdline(bp);
  if (!parse_ip_arg(cmdline_param(cmdline, "ip"))) {
    puts("httpd: no ip=<address>:... on the command line\n");
    return;
  }
  my_port = 8080;
  const char *port = cmdline_param(cmdline, "httpd.port");
  if (port) {
    u64 p = parse_dec(port);
    if (p == 0 || p > 65535) {
      puts("httpd: httpd.port out of range\n");
      return;
    }
    my_port = (u16)p;
  }
  u64 base = 0;
  u32 irq = 0;
  for (int n = 0; virtio_device(cmdline, n, &base, &irq); n++) {
    if (virtio_present(base) && rd(base, REG_DEVICE_ID) == 1) break;
    base = 0;
  }
  if (!base || !negotiate(base, 1u << 5)) { /* MAC */
    puts("httpd: no virtio-net device\n");
    return;
  }
  net_base = base;
  rxq = setup_queue(base, 0, 0);
  txq = setup_queue(base, 0, 1);
  if (!rxq || !txq) return;
  driver_ok(base);
  for (u32 i = 0; i < 6; i++) my_mac[i] = cfg8(base, i);
  build_response();
  interrupts(irq);
  for (u16 i = 0; i < NRX; i++) post_rx(i);
  notify(rxq);
  puts("httpd: ");
  put_ip(my_ip);
  puts(" port ");
  put_dec(my_port);
  puts(" host ");
  puts(hostname);
  puts(" ready\n");
  for (;;) {
    struct used_elem *e = poll_used(rxq);
    if (!e) {
      wr(base, REG_INTERRUPT_ACK, rd(base, REG_INTERRUPT_STATUS));
      e = poll_used(rxq);
    }
    if (!e) { /* sleep until the device signals; sti's shadow covers hlt, so no wake-up is lost */
      __asm__ volatile("sti; hlt; cli" : : : "memory");
      continue;
    }
    u16 id = (u16)(e->id % NRX);
    u32 len = e->len;
    if (len > NET_HDR && len <= BUF) frame(rx_buf[id] + NET_HDR, len - NET_HDR);
    post_rx(id);
    notify(rxq);
  }
}
