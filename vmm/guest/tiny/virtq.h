/* The virtio-mmio transport and split virtqueues shared by the guests that drive virtio devices
 * (virtio.c, httpd.c): 16 entries a queue, no EVENT_IDX, no indirect descriptors. */
#ifndef HEARTH_GUEST_VIRTQ_H
#define HEARTH_GUEST_VIRTQ_H

#include "lib.h"

#define REG_MAGIC 0x000
#define REG_VERSION 0x004
#define REG_DEVICE_ID 0x008
#define REG_DEVICE_FEATURES 0x010
#define REG_DEVICE_FEATURES_SEL 0x014
#define REG_DRIVER_FEATURES 0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM_MAX 0x034
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_QUEUE_NOTIFY 0x050
#define REG_INTERRUPT_STATUS 0x060
#define REG_INTERRUPT_ACK 0x064
#define REG_STATUS 0x070
#define REG_QUEUE_DESC 0x080
#define REG_QUEUE_DRIVER 0x090
#define REG_QUEUE_DEVICE 0x0a0
#define REG_CONFIG 0x100

#define QSZ 16
#define D_NEXT 1
#define D_WRITE 2

struct desc {
  u64 addr;
  u32 len;
  u16 flags;
  u16 next;
};
struct avail {
  u16 flags;
  u16 idx;
  u16 ring[QSZ];
  u16 used_event;
};
struct used_elem {
  u32 id;
  u32 len;
};
struct used {
  u16 flags;
  u16 idx;
  struct used_elem ring[QSZ];
  u16 avail_event;
};
struct vq {
  struct desc desc[QSZ] __attribute__((aligned(16)));
  struct avail avail __attribute__((aligned(2)));
  struct used used __attribute__((aligned(4)));
  u16 last_used;
  u16 index;
  u64 base;
};

static inline u32 rd(u64 base, u32 off) { return *(volatile u32 *)(base + off); }
static inline void wr(u64 base, u32 off, u32 v) { *(volatile u32 *)(base + off) = v; }
static inline u8 cfg8(u64 base, u32 off) { return *(volatile u8 *)(base + REG_CONFIG + off); }
static inline void barrier(void) { __asm__ volatile("" : : : "memory"); }
static inline void relax(void) { __asm__ volatile("pause" : : : "memory"); }

void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);

/* Whether a virtio-mmio v2 device answers at base. */
int virtio_present(u64 base);
/* Resets the device and negotiates VERSION_1 plus the device features in low. */
int negotiate(u64 base, u32 low);
/* Sets up queue index of device slot dev (0..3); 0 when the device's queue is too small. */
struct vq *setup_queue(u64 base, int dev, u16 index);
void driver_ok(u64 base);
/* Offers the chain starting at descriptor head. */
void submit(struct vq *q, u16 head);
void notify(struct vq *q);
/* The next used element, or 0 when there is none yet. */
struct used_elem *poll_used(struct vq *q);
/* Waits (spinning, bounded) for the next used element; 0 on timeout. */
struct used_elem *wait_used(struct vq *q);
u64 parse_hex(const char *s);
/* Each virtio_mmio.device=<size>@0x<addr>:<irq> of the command line, in order, from 0: its base
 * address and IRQ in *base and *irq; 0 when there is no such device. */
int virtio_device(const char *cmdline, int n, u64 *base, u32 *irq);

#endif
