/* The virtio-mmio transport and split virtqueues: see virtq.h. */
#include "virtq.h"

#define ST_ACK 1
#define ST_DRIVER 2
#define ST_DRIVER_OK 4
#define ST_FEATURES_OK 8
#define SPIN_LIMIT 400000000UL

/* gcc may emit calls to these for struct and array initialisation. */
void *memset(void *d, int c, unsigned long n) {
  volatile u8 *p = d;
  while (n--) *p++ = (u8)c;
  return d;
}
void *memcpy(void *d, const void *s, unsigned long n) {
  volatile u8 *p = d;
  const u8 *q = s;
  while (n--) *p++ = *q++;
  return d;
}

/* Three queues per device, and at most four devices. */
static struct vq queues[4][3] __attribute__((aligned(4096)));

int virtio_present(u64 base) {
  return rd(base, REG_MAGIC) == 0x74726976 && rd(base, REG_VERSION) == 2;
}

int negotiate(u64 base, u32 low) {
  wr(base, REG_STATUS, 0);
  wr(base, REG_STATUS, ST_ACK);
  wr(base, REG_STATUS, ST_ACK | ST_DRIVER);
  wr(base, REG_DEVICE_FEATURES_SEL, 1);
  if (!(rd(base, REG_DEVICE_FEATURES) & 1)) {
    puts("virtio: device lacks VERSION_1\n");
    return 0;
  }
  wr(base, REG_DEVICE_FEATURES_SEL, 0);
  u32 offered = rd(base, REG_DEVICE_FEATURES);
  wr(base, REG_DRIVER_FEATURES_SEL, 0);
  wr(base, REG_DRIVER_FEATURES, offered & low);
  wr(base, REG_DRIVER_FEATURES_SEL, 1);
  wr(base, REG_DRIVER_FEATURES, 1);
  wr(base, REG_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
  if (!(rd(base, REG_STATUS) & ST_FEATURES_OK)) {
    puts("virtio: FEATURES_OK refused\n");
    return 0;
  }
  return 1;
}

struct vq *setup_queue(u64 base, int dev, u16 index) {
  if (dev < 0 || dev >= 4 || index >= 3) return 0;
  struct vq *q = &queues[dev][index];
  memset(q, 0, sizeof *q);
  q->base = base;
  q->index = index;
  wr(base, REG_QUEUE_SEL, index);
  if (rd(base, REG_QUEUE_NUM_MAX) < QSZ) {
    puts("virtio: queue too small\n");
    return 0;
  }
  wr(base, REG_QUEUE_NUM, QSZ);
  wr(base, REG_QUEUE_DESC, (u32)(u64)q->desc);
  wr(base, REG_QUEUE_DESC + 4, 0);
  wr(base, REG_QUEUE_DRIVER, (u32)(u64)&q->avail);
  wr(base, REG_QUEUE_DRIVER + 4, 0);
  wr(base, REG_QUEUE_DEVICE, (u32)(u64)&q->used);
  wr(base, REG_QUEUE_DEVICE + 4, 0);
  wr(base, REG_QUEUE_READY, 1);
  return q;
}

void driver_ok(u64 base) {
  wr(base, REG_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
}

void submit(struct vq *q, u16 head) {
  q->avail.ring[q->avail.idx % QSZ] = head;
  barrier();
  q->avail.idx++;
  barrier();
}

void notify(struct vq *q) { wr(q->base, REG_QUEUE_NOTIFY, q->index); }

struct used_elem *poll_used(struct vq *q) {
  barrier();
  if (*(volatile u16 *)&q->used.idx == q->last_used) return 0;
  struct used_elem *e = &q->used.ring[q->last_used % QSZ];
  q->last_used++;
  return e;
}

struct used_elem *wait_used(struct vq *q) {
  for (u64 spin = 0; spin < SPIN_LIMIT; spin++) {
    struct used_elem *e = poll_used(q);
    if (e) return e;
    relax();
  }
  return 0;
}

u64 parse_hex(const char *s) {
  u64 v = 0;
  for (int digits = 0; digits < 16; digits++, s++) {
    char c = *s;
    if (c >= '0' && c <= '9') v = v * 16 + (u64)(c - '0');
    else if (c >= 'a' && c <= 'f') v = v * 16 + (u64)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v = v * 16 + (u64)(c - 'A' + 10);
    else return v;
  }
  return v;
}

int virtio_device(const char *cmdline, int n, u64 *base, u32 *irq) {
  const char *key = "virtio_mmio.device";
  for (const char *v = cmdline_param(cmdline, key); v; v = cmdline_param(v, key)) {
    while (*v && *v != '@' && *v != ' ') v++;
    if (v[0] != '@' || v[1] != '0' || v[2] != 'x') continue;
    if (n-- > 0) continue;
    *base = parse_hex(v + 3);
    const char *p = v + 3;
    while (*p && *p != ':' && *p != ' ') p++;
    *irq = *p == ':' ? (u32)parse_dec(p + 1) : 0;
    return 1;
  }
  return 0;
}
