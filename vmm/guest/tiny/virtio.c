/* A guest with its own small virtio-mmio drivers. It finds its devices on the command line
 * (virtio_mmio.device=4K@0xADDR:IRQ, as the VMM announces them), drives each one by polling (its
 * interrupts stay masked), and reports on the console for the host test to check:
 *   blk:   reads sector 0, writes sector 1, flushes, reads the serial (GET_ID);
 *   net:   sends one frame of ethertype 0x88b5, then waits for one back;
 *   vsock: connects to host port 5000 and exchanges a line, then accepts a host connection on
 *          port 1024 and echoes what it gets;
 *   rng:   fetches 64 bytes.
 * With "rounds" on the command line it then loops, for snapshot tests: each round writes its number
 * to sector 2, reads it back, fetches random bytes, and prints "round N blk ok rng ok".
 * The transport and queues are virtq.c's. */
#include "virtq.h"

static int ndev;

static void put_str_n(const u8 *s, u32 n) {
  for (u32 i = 0; i < n && s[i]; i++) putc(s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?');
}

/* ---- virtio-blk ----------------------------------------------------------------------------- */

struct blk_req {
  u32 type;
  u32 reserved;
  u64 sector;
};
static struct blk_req blk_hdr;
static u8 blk_data[512] __attribute__((aligned(512)));
static volatile u8 blk_status;

/* One request: header, optional data of {@code len} bytes, status. Returns the status or -1. */
static int blk_request(struct vq *q, u32 type, u64 sector, u32 len, int device_writes) {
  blk_hdr.type = type;
  blk_hdr.reserved = 0;
  blk_hdr.sector = sector;
  blk_status = 0xff;
  u16 d = 0;
  q->desc[d] = (struct desc){(u64)&blk_hdr, sizeof blk_hdr, D_NEXT, 1};
  d = 1;
  if (len) {
    q->desc[d] = (struct desc){(u64)blk_data, len, D_NEXT | (device_writes ? D_WRITE : 0), 2};
    d = 2;
  } else {
    q->desc[0].next = 1;
  }
  q->desc[d] = (struct desc){(u64)&blk_status, 1, D_WRITE, 0};
  submit(q, 0);
  notify(q);
  if (!wait_used(q)) return -1;
  return blk_status;
}

static struct vq *blk_q;

static void blk(u64 base, int dev) {
  if (!negotiate(base, 1u << 9)) return; /* FLUSH */
  struct vq *q = setup_queue(base, dev, 0);
  if (!q) return;
  blk_q = q;
  driver_ok(base);
  u64 capacity = 0;
  for (int i = 7; i >= 0; i--) capacity = capacity << 8 | cfg8(base, (u32)i);
  puts("blk: capacity ");
  put_dec(capacity);
  puts(" sectors\n");

  int st = blk_request(q, 0, 0, 512, 1);
  puts("blk: read sector 0 status ");
  put_dec((u64)st);
  puts(" text '");
  put_str_n(blk_data, 48);
  puts("'\n");

  const char *msg = "WRITTEN-BY-THE-HEARTH-TEST-GUEST";
  for (u32 i = 0; i < 512; i++) blk_data[i] = (u8)(i & 0xff);
  for (u32 i = 0; msg[i]; i++) blk_data[i] = (u8)msg[i];
  st = blk_request(q, 1, 1, 512, 0);
  puts("blk: write sector 1 status ");
  put_dec((u64)st);
  puts("\n");

  st = blk_request(q, 4, 0, 0, 0);
  puts("blk: flush status ");
  put_dec((u64)st);
  puts("\n");

  for (u32 i = 0; i < 20; i++) blk_data[i] = 0;
  st = blk_request(q, 8, 0, 20, 1);
  puts("blk: id status ");
  put_dec((u64)st);
  puts(" serial '");
  put_str_n(blk_data, 20);
  puts("'\n");

  st = blk_request(q, 0, capacity, 512, 1);
  puts("blk: read past the end status ");
  put_dec((u64)st);
  puts("\n");
}

/* ---- virtio-net ----------------------------------------------------------------------------- */

#define NET_HDR 12
#define NET_BUF 2048
#define ETHERTYPE_HI 0x88
#define ETHERTYPE_LO 0xb5
static u8 net_rx[4][NET_BUF] __attribute__((aligned(64)));
static u8 net_tx[NET_BUF] __attribute__((aligned(64)));

static void net_post_rx(struct vq *rx, u16 i) {
  rx->desc[i] = (struct desc){(u64)net_rx[i], NET_BUF, D_WRITE, 0};
  submit(rx, i);
}

static void net(u64 base, int dev) {
  if (!negotiate(base, 1u << 5)) return; /* MAC */
  struct vq *rx = setup_queue(base, dev, 0);
  struct vq *tx = setup_queue(base, dev, 1);
  if (!rx || !tx) return;
  driver_ok(base);
  u8 mac[6];
  puts("net: mac ");
  for (u32 i = 0; i < 6; i++) {
    mac[i] = cfg8(base, i);
    put_hex(mac[i]);
    putc(i < 5 ? ':' : '\n');
  }
  for (u16 i = 0; i < 4; i++) net_post_rx(rx, i);
  notify(rx);

  const char *payload = "HEARTH-FRAME-FROM-GUEST";
  u32 len = NET_HDR + 64;
  for (u32 i = 0; i < len; i++) net_tx[i] = 0;
  u8 *f = net_tx + NET_HDR;
  for (u32 i = 0; i < 6; i++) {
    f[i] = 0xff;
    f[6 + i] = mac[i];
  }
  f[12] = ETHERTYPE_HI;
  f[13] = ETHERTYPE_LO;
  for (u32 i = 0; payload[i]; i++) f[14 + i] = (u8)payload[i];
  tx->desc[0] = (struct desc){(u64)net_tx, len, 0, 0};
  submit(tx, 0);
  notify(tx);
  struct used_elem *e = wait_used(tx);
  puts(e ? "net: frame sent\n" : "net: send timed out\n");

  for (int frames = 0; frames < 64; frames++) {
    e = wait_used(rx);
    if (!e) {
      puts("net: no frame received\n");
      return;
    }
    u16 id = (u16)e->id;
    u8 *g = net_rx[id % 4] + NET_HDR;
    if (e->len > NET_HDR + 14 && g[12] == ETHERTYPE_HI && g[13] == ETHERTYPE_LO) {
      puts("net: received ");
      put_dec(e->len - NET_HDR);
      puts(" bytes for ");
      int mine = 1;
      for (u32 i = 0; i < 6; i++) mine &= g[i] == mac[i];
      puts(mine ? "my mac" : "another mac");
      puts(" payload '");
      put_str_n(g + 14, 40);
      puts("'\n");
      return;
    }
    net_post_rx(rx, id % 4); /* not ours (IPv6 chatter, say): give the buffer back */
    notify(rx);
  }
  puts("net: only other frames arrived\n");
}

/* ---- virtio-vsock --------------------------------------------------------------------------- */

struct vsock_hdr {
  u64 src_cid;
  u64 dst_cid;
  u32 src_port;
  u32 dst_port;
  u32 len;
  u16 type;
  u16 op;
  u32 flags;
  u32 buf_alloc;
  u32 fwd_cnt;
} __attribute__((packed));

#define OP_REQUEST 1
#define OP_RESPONSE 2
#define OP_RST 3
#define OP_SHUTDOWN 4
#define OP_RW 5
#define VS_BUF 4096
#define VS_RX 8
static u8 vs_rx[VS_RX][VS_BUF] __attribute__((aligned(64)));
static u8 vs_tx[VS_BUF] __attribute__((aligned(64)));
static u8 vs_pkt[VS_BUF];
static u64 vs_cid;
static u32 vs_fwd; /* bytes consumed on the current connection (its fwd_cnt) */

static void vs_post(struct vq *rx, u16 i) {
  rx->desc[i] = (struct desc){(u64)vs_rx[i], VS_BUF, D_WRITE, 0};
  submit(rx, i);
}

static int vs_send(struct vq *tx, u32 src_port, u32 dst_port, u16 op, u32 flags, const u8 *data,
                   u32 len) {
  struct vsock_hdr *h = (struct vsock_hdr *)vs_tx;
  h->src_cid = vs_cid;
  h->dst_cid = 2;
  h->src_port = src_port;
  h->dst_port = dst_port;
  h->len = len;
  h->type = 1;
  h->op = op;
  h->flags = flags;
  h->buf_alloc = 65536;
  h->fwd_cnt = vs_fwd;
  for (u32 i = 0; i < len; i++) vs_tx[sizeof *h + i] = data[i];
  tx->desc[0] = (struct desc){(u64)vs_tx, (u32)sizeof *h + len, 0, 0};
  submit(tx, 0);
  notify(tx);
  return wait_used(tx) != 0;
}

/* The next packet from the host, copied to vs_pkt (its buffer goes back at once), or 0. */
static struct vsock_hdr *vs_recv(struct vq *rx) {
  struct used_elem *e = wait_used(rx);
  if (!e) return 0;
  u16 id = (u16)(e->id % VS_RX);
  u32 n = e->len < VS_BUF ? e->len : VS_BUF;
  for (u32 i = 0; i < n; i++) vs_pkt[i] = vs_rx[id][i];
  vs_post(rx, id);
  notify(rx);
  return (struct vsock_hdr *)vs_pkt;
}

/* Waits for a packet with {@code op} on local port {@code port}, skipping others. */
static struct vsock_hdr *vs_expect(struct vq *rx, u16 op, u32 port) {
  for (int n = 0; n < 32; n++) {
    struct vsock_hdr *h = vs_recv(rx);
    if (!h) return 0;
    if (h->op == op && h->dst_port == port) return h;
    puts("vsock: skipping op ");
    put_dec(h->op);
    puts("\n");
  }
  return 0;
}

static void vsock(u64 base, int dev) {
  if (!negotiate(base, 0)) return;
  struct vq *rx = setup_queue(base, dev, 0);
  struct vq *tx = setup_queue(base, dev, 1);
  struct vq *ev = setup_queue(base, dev, 2);
  if (!rx || !tx || !ev) return;
  driver_ok(base);
  vs_cid = 0;
  for (int i = 7; i >= 0; i--) vs_cid = vs_cid << 8 | cfg8(base, (u32)i);
  puts("vsock: cid ");
  put_dec(vs_cid);
  puts("\n");
  for (u16 i = 0; i < VS_RX; i++) vs_post(rx, i);
  notify(rx);

  /* Guest-initiated: host port 5000 is the Unix socket <uds>_5000. */
  vs_send(tx, 1234, 5000, OP_REQUEST, 0, 0, 0);
  struct vsock_hdr *h = vs_expect(rx, OP_RESPONSE, 1234);
  if (!h) {
    puts("vsock: no RESPONSE from host port 5000\n");
    return;
  }
  const char *ping = "ping from the guest\n";
  u32 len = 0;
  while (ping[len]) len++;
  vs_send(tx, 1234, 5000, OP_RW, 0, (const u8 *)ping, len);
  h = vs_expect(rx, OP_RW, 1234);
  if (!h) {
    puts("vsock: no reply from host port 5000\n");
    return;
  }
  vs_fwd += h->len;
  puts("vsock: guest-initiated got '");
  put_str_n(vs_pkt + sizeof *h, h->len < 64 ? h->len - (h->len && vs_pkt[sizeof *h + h->len - 1] == '\n') : 64);
  puts("'\n");
  vs_send(tx, 1234, 5000, OP_SHUTDOWN, 3, 0, 0);

  /* Host-initiated: the host writes CONNECT 1024 to the device's socket. Credit counts are per
   * connection, so this one starts from 0. */
  vs_fwd = 0;
  puts("vsock: listening on 1024\n");
  h = vs_expect(rx, OP_REQUEST, 1024);
  if (!h) {
    puts("vsock: no connection to port 1024\n");
    return;
  }
  u32 peer = h->src_port;
  vs_send(tx, 1024, peer, OP_RESPONSE, 0, 0, 0);
  h = vs_expect(rx, OP_RW, 1024);
  if (!h) {
    puts("vsock: no data on port 1024\n");
    return;
  }
  vs_fwd += h->len;
  u8 echo[80] = "echo: ";
  u32 n = h->len < 64 ? h->len : 64;
  for (u32 i = 0; i < n; i++) echo[6 + i] = vs_pkt[sizeof *h + i];
  puts("vsock: host-initiated got '");
  put_str_n(vs_pkt + sizeof *h, n - (n && vs_pkt[sizeof *h + n - 1] == '\n'));
  puts("'\n");
  vs_send(tx, 1024, peer, OP_RW, 0, echo, 6 + n);
  vs_send(tx, 1024, peer, OP_SHUTDOWN, 3, 0, 0);
  puts("vsock: done\n");
}

/* ---- virtio-rng ----------------------------------------------------------------------------- */

static u8 rng_buf[64];
static struct vq *rng_q;

/* Fills rng_buf once; returns the bytes received, or -1 on timeout. */
static int rng_fetch(struct vq *q) {
  for (u32 i = 0; i < sizeof rng_buf; i++) rng_buf[i] = 0;
  q->desc[0] = (struct desc){(u64)rng_buf, sizeof rng_buf, D_WRITE, 0};
  submit(q, 0);
  notify(q);
  struct used_elem *e = wait_used(q);
  return e ? (int)e->len : -1;
}

static void rng(u64 base, int dev) {
  if (!negotiate(base, 0)) return;
  struct vq *q = setup_queue(base, dev, 0);
  if (!q) return;
  rng_q = q;
  driver_ok(base);
  u32 total = 0;
  u32 nonzero = 0;
  for (int round = 0; round < 4; round++) {
    for (u32 i = 0; i < sizeof rng_buf; i++) rng_buf[i] = 0;
    q->desc[0] = (struct desc){(u64)rng_buf, sizeof rng_buf, D_WRITE, 0};
    submit(q, 0);
    notify(q);
    struct used_elem *e = wait_used(q);
    if (!e) {
      puts("rng: timed out\n");
      return;
    }
    total += e->len;
    for (u32 i = 0; i < sizeof rng_buf; i++) nonzero += rng_buf[i] != 0;
  }
  puts("rng: got ");
  put_dec(total);
  puts(" bytes, ");
  put_dec(nonzero);
  puts(" of them non-zero, last ");
  for (u32 i = 0; i < 8; i++) put_hex(rng_buf[i]);
  puts("\n");
}

/* ---- discovery ------------------------------------------------------------------------------ */

static void probe_device(u64 base) {
  if (!virtio_present(base)) {
    puts("virtio: no virtio-mmio v2 device at ");
    put_hex(base);
    puts("\n");
    return;
  }
  u32 id = rd(base, REG_DEVICE_ID);
  int dev = ndev++;
  if (dev >= 4) return;
  puts("virtio: device ");
  put_dec(id);
  puts(" at ");
  put_hex(base);
  puts("\n");
  switch (id) {
    case 2: blk(base, dev); break;
    case 1: net(base, dev); break;
    case 19: vsock(base, dev); break;
    case 4: rng(base, dev); break;
    default: puts("virtio: unknown device\n");
  }
}

/* One round: sector 2 holds the round's number after a write and a read back; random bytes come. */
static void rounds(void) {
  for (u64 n = 1;; n++) {
    puts("round ");
    put_dec(n);
    if (blk_q) {
      for (u32 i = 0; i < 512; i++) blk_data[i] = 0;
      *(volatile u64 *)blk_data = n;
      int w = blk_request(blk_q, 1, 2, 512, 0);
      *(volatile u64 *)blk_data = 0;
      int r = blk_request(blk_q, 0, 2, 512, 1);
      puts(w == 0 && r == 0 && *(volatile u64 *)blk_data == n ? " blk ok" : " blk FAILED");
    }
    if (rng_q) {
      int got = rng_fetch(rng_q);
      u32 nonzero = 0;
      for (u32 i = 0; i < sizeof rng_buf; i++) nonzero += rng_buf[i] != 0;
      puts(got == (int)sizeof rng_buf && nonzero > 0 ? " rng ok" : " rng FAILED");
    }
    puts("\n");
    for (volatile u64 spin = 0; spin < 20000; spin++) {
    }
  }
}

void guest_main(const u8 *bp) {
  map_high();
  const char *cmdline = boot_cmdline(bp);
  u64 base;
  u32 irq;
  for (int n = 0; virtio_device(cmdline, n, &base, &irq); n++) probe_device(base);
  puts("virtio: done\n");
  if (cmdline_param(cmdline, "rounds")) rounds();
}
