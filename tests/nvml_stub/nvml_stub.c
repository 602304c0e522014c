/* A stand-in for NVIDIA's libnvidia-ml.so.1, built by the test suite (never installed). It
 * implements the NVML C functions the agent uses, with the real names, signatures and error
 * codes, from a small text file named by $NVML_STUB_CONFIG, so that tests drive the agent's real
 * NVML code path (dlopen, symbol lookup, discovery, sampling, errors).
 *
 * Config: one device per line, `key=value` fields separated by ';' ('#' starts a comment):
 *   name=NVIDIA H200;uuid=GPU-0001;mem_mb=143771;used_mb=1200;util=35;power_mw=250000;
 *   temp=41;ecc=0;lost=0;mig=0;pci=00000000:17:00.0;nvlink=1,2
 * (one line per device). `mig_devices=GI:MB,GI:MB,...` (with `mig=1`) gives the GPU MIG devices
 * (GPU instance id and memory each; UUID "MIG-<uuid>-<n>"), as nvmlDeviceGetMaxMigDeviceCount
 * and nvmlDeviceGetMigDeviceHandleByIndex list them; built with NVML_STUB_NO_MIG_LIST the
 * library lacks those symbols (an old driver). `lost=1` makes every per-device call answer
 * NVML_ERROR_GPU_IS_LOST (a GPU that fell off the bus). The file is re-read whenever it changes
 * (tests rewrite it with write + rename), so a running agent sees a GPU go bad. No config file:
 * nvmlInit_v2 answers NVML_ERROR_DRIVER_NOT_LOADED. Not thread-safe beyond what the agent needs
 * (one sampler). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st* nvmlDevice_t;
typedef struct {
  unsigned long long total, free, used;
} nvmlMemory_t;
typedef struct {
  unsigned int gpu, memory;
} nvmlUtilization_t;
typedef struct {
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
} nvmlPciInfo_t;

enum {
  NVML_SUCCESS = 0,
  NVML_ERROR_UNINITIALIZED = 1,
  NVML_ERROR_INVALID_ARGUMENT = 2,
  NVML_ERROR_NOT_SUPPORTED = 3,
  NVML_ERROR_NOT_FOUND = 6,
  NVML_ERROR_INSUFFICIENT_SIZE = 7,
  NVML_ERROR_DRIVER_NOT_LOADED = 9,
  NVML_ERROR_GPU_IS_LOST = 15,
  NVML_ERROR_UNKNOWN = 999
};

#define MAX_DEVICES 64
#define MAX_LINKS 18
#define MAX_MIG 7               /* what an H100/H200 allows */
#define MIG_HANDLE_BASE 0x10000 /* MIG handles: BASE + parent * 256 + mig index */

struct stub_device {
  char name[96], uuid[96], pci[32];
  unsigned long long mem_mb, used_mb, ecc;
  unsigned int util, power_mw, temp, lost, mig;
  int nvlink[MAX_LINKS]; /* remote device index per link, -1 = inactive */
  unsigned int mig_count, mig_gi[MAX_MIG];
  unsigned long long mig_mb[MAX_MIG];
};

static struct stub_device devices[MAX_DEVICES];
static unsigned int device_count;
static int initialized;
static struct stat last_stat;

static void parse_field(struct stub_device* d, const char* key, const char* value) {
  if (!strcmp(key, "name"))
    snprintf(d->name, sizeof d->name, "%s", value);
  else if (!strcmp(key, "uuid"))
    snprintf(d->uuid, sizeof d->uuid, "%s", value);
  else if (!strcmp(key, "pci"))
    snprintf(d->pci, sizeof d->pci, "%s", value);
  else if (!strcmp(key, "mem_mb"))
    d->mem_mb = strtoull(value, NULL, 10);
  else if (!strcmp(key, "used_mb"))
    d->used_mb = strtoull(value, NULL, 10);
  else if (!strcmp(key, "ecc"))
    d->ecc = strtoull(value, NULL, 10);
  else if (!strcmp(key, "util"))
    d->util = (unsigned)strtoul(value, NULL, 10);
  else if (!strcmp(key, "power_mw"))
    d->power_mw = (unsigned)strtoul(value, NULL, 10);
  else if (!strcmp(key, "temp"))
    d->temp = (unsigned)strtoul(value, NULL, 10);
  else if (!strcmp(key, "lost"))
    d->lost = (unsigned)strtoul(value, NULL, 10);
  else if (!strcmp(key, "mig"))
    d->mig = (unsigned)strtoul(value, NULL, 10);
  else if (!strcmp(key, "mig_devices")) {
    const char* p = value;
    while (*p && d->mig_count < MAX_MIG) {
      char* end = NULL;
      d->mig_gi[d->mig_count] = (unsigned)strtoul(p, &end, 10);
      d->mig_mb[d->mig_count] = *end == ':' ? strtoull(end + 1, NULL, 10) : 0;
      ++d->mig_count;
      p = strchr(p, ',');
      if (!p) break;
      ++p;
    }
  } else if (!strcmp(key, "nvlink")) {
    int link = 0;
    const char* p = value;
    while (*p && link < MAX_LINKS) {
      d->nvlink[link++] = (int)strtol(p, NULL, 10);
      p = strchr(p, ',');
      if (!p) break;
      ++p;
    }
  }
}

/* Re-reads the config when it changed. Returns 0 when there is no config (no "driver"). */
static int load_config(void) {
  const char* path = getenv("NVML_STUB_CONFIG");
  struct stat sb;
  if (!path || stat(path, &sb) != 0) return 0;
  if (device_count > 0 && sb.st_ino == last_stat.st_ino && sb.st_size == last_stat.st_size &&
      sb.st_mtim.tv_sec == last_stat.st_mtim.tv_sec &&
      sb.st_mtim.tv_nsec == last_stat.st_mtim.tv_nsec)
    return 1;
  FILE* f = fopen(path, "r");
  if (!f) return 0;
  last_stat = sb;
  device_count = 0;
  char line[1024];
  while (fgets(line, sizeof line, f) && device_count < MAX_DEVICES) {
    line[strcspn(line, "\r\n#")] = '\0';
    if (!strchr(line, '=')) continue;
    struct stub_device* d = &devices[device_count];
    memset(d, 0, sizeof *d);
    for (int i = 0; i < MAX_LINKS; ++i) d->nvlink[i] = -1;
    snprintf(d->pci, sizeof d->pci, "00000000:%02X:00.0", 0x10 + device_count);
    char* save = NULL;
    for (char* field = strtok_r(line, ";", &save); field; field = strtok_r(NULL, ";", &save)) {
      char* eq = strchr(field, '=');
      if (!eq) continue;
      *eq = '\0';
      while (*field == ' ') ++field;
      parse_field(d, field, eq + 1);
    }
    ++device_count;
  }
  fclose(f);
  return 1;
}

static struct stub_device* device_of(nvmlDevice_t handle, nvmlReturn_t* err) {
  size_t i = (size_t)handle;
  if (!initialized) {
    *err = NVML_ERROR_UNINITIALIZED;
    return NULL;
  }
  load_config();
  if (i == 0 || i > device_count) {
    *err = NVML_ERROR_INVALID_ARGUMENT;
    return NULL;
  }
  if (devices[i - 1].lost) {
    *err = NVML_ERROR_GPU_IS_LOST;
    return NULL;
  }
  *err = NVML_SUCCESS;
  return &devices[i - 1];
}

/* A MIG handle -> its parent device and MIG index (NULL with *err when not a MIG handle). */
static struct stub_device* mig_of(nvmlDevice_t handle, unsigned int* mig, nvmlReturn_t* err) {
  size_t h = (size_t)handle;
  if (h < MIG_HANDLE_BASE) {
    *err = NVML_ERROR_INVALID_ARGUMENT;
    return NULL;
  }
  struct stub_device* d = device_of((nvmlDevice_t)((h - MIG_HANDLE_BASE) / 256 + 1), err);
  if (!d) return NULL;
  *mig = (unsigned)((h - MIG_HANDLE_BASE) % 256);
  if (!d->mig || *mig >= d->mig_count) {
    *err = NVML_ERROR_INVALID_ARGUMENT;
    return NULL;
  }
  return d;
}

#define DEVICE_OR_RETURN(d, handle)                 \
  nvmlReturn_t err_;                                \
  struct stub_device* d = device_of(handle, &err_); \
  if (!d) return err_

static nvmlReturn_t copy_string(char* out, unsigned int length, const char* s) {
  if (!out) return NVML_ERROR_INVALID_ARGUMENT;
  if (strlen(s) + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
  memcpy(out, s, strlen(s) + 1);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlInit_v2(void) {
  if (!load_config()) return NVML_ERROR_DRIVER_NOT_LOADED;
  ++initialized;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlShutdown(void) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  --initialized;
  return NVML_SUCCESS;
}

const char* nvmlErrorString(nvmlReturn_t result) {
  switch (result) {
    case NVML_SUCCESS:
      return "Success";
    case NVML_ERROR_UNINITIALIZED:
      return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT:
      return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED:
      return "Not Supported";
    case NVML_ERROR_INSUFFICIENT_SIZE:
      return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED:
      return "Driver Not Loaded";
    case NVML_ERROR_GPU_IS_LOST:
      return "GPU is lost";
    default:
      return "Unknown Error";
  }
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* count) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  load_config();
  *count = device_count;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  load_config();
  if (!device || index >= device_count) return NVML_ERROR_INVALID_ARGUMENT;
  if (devices[index].lost) return NVML_ERROR_GPU_IS_LOST;
  *device = (nvmlDevice_t)(size_t)(index + 1);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned int length) {
  if ((size_t)device >= MIG_HANDLE_BASE) { /* works on MIG handles, as in NVML */
    nvmlReturn_t err;
    unsigned int m;
    struct stub_device* p = mig_of(device, &m, &err);
    if (!p) return err;
    char mig_uuid[128];
    snprintf(mig_uuid, sizeof mig_uuid, "MIG-%s-%u", p->uuid, m);
    return copy_string(uuid, length, mig_uuid);
  }
  DEVICE_OR_RETURN(d, device);
  return copy_string(uuid, length, d->uuid);
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned int length) {
  DEVICE_OR_RETURN(d, device);
  return copy_string(name, length, d->name);
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t* memory) {
  if ((size_t)device >= MIG_HANDLE_BASE) { /* a MIG device: its own framebuffer */
    nvmlReturn_t err;
    unsigned int m;
    struct stub_device* p = mig_of(device, &m, &err);
    if (!p) return err;
    if (!memory) return NVML_ERROR_INVALID_ARGUMENT;
    memory->total = p->mig_mb[m] << 20;
    memory->used = 0;
    memory->free = memory->total;
    return NVML_SUCCESS;
  }
  DEVICE_OR_RETURN(d, device);
  if (!memory) return NVML_ERROR_INVALID_ARGUMENT;
  memory->total = d->mem_mb << 20;
  memory->used = d->used_mb << 20;
  memory->free = memory->total - memory->used;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t* pci) {
  DEVICE_OR_RETURN(d, device);
  if (!pci) return NVML_ERROR_INVALID_ARGUMENT;
  memset(pci, 0, sizeof *pci);
  snprintf(pci->busId, sizeof pci->busId, "%s", d->pci);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t* util) {
  DEVICE_OR_RETURN(d, device);
  if (!util) return NVML_ERROR_INVALID_ARGUMENT;
  util->gpu = d->util;
  util->memory = d->util / 2;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int* power) {
  DEVICE_OR_RETURN(d, device);
  if (!power) return NVML_ERROR_INVALID_ARGUMENT;
  *power = d->power_mw;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, int sensor, unsigned int* temp) {
  DEVICE_OR_RETURN(d, device);
  if (!temp || sensor != 0) return NVML_ERROR_INVALID_ARGUMENT;
  *temp = d->temp;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, int error_type, int counter_type,
                                         unsigned long long* count) {
  DEVICE_OR_RETURN(d, device);
  if (!count || counter_type < 0 || counter_type > 1) return NVML_ERROR_INVALID_ARGUMENT;
  *count = error_type == 1 ? d->ecc : 0; /* 1 = NVML_MEMORY_ERROR_TYPE_UNCORRECTED */
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int* current,
                                  unsigned int* pending) {
  DEVICE_OR_RETURN(d, device);
  if (!current || !pending) return NVML_ERROR_INVALID_ARGUMENT;
  if (strstr(d->name, "L40S")) return NVML_ERROR_NOT_SUPPORTED; /* as on the real board */
  *current = *pending = d->mig;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetNvLinkState(nvmlDevice_t device, unsigned int link, int* active) {
  DEVICE_OR_RETURN(d, device);
  if (!active || link >= MAX_LINKS) return NVML_ERROR_INVALID_ARGUMENT;
  if (strstr(d->name, "L40S")) return NVML_ERROR_NOT_SUPPORTED;
  *active = d->nvlink[link] >= 0 ? 1 : 0;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetNvLinkRemotePciInfo_v2(nvmlDevice_t device, unsigned int link,
                                                 nvmlPciInfo_t* pci) {
  DEVICE_OR_RETURN(d, device);
  if (!pci || link >= MAX_LINKS || d->nvlink[link] < 0) return NVML_ERROR_INVALID_ARGUMENT;
  int remote = d->nvlink[link];
  if ((unsigned)remote >= device_count) return NVML_ERROR_INVALID_ARGUMENT;
  memset(pci, 0, sizeof *pci);
  snprintf(pci->busId, sizeof pci->busId, "%s", devices[remote].pci);
  return NVML_SUCCESS;
}

#ifndef NVML_STUB_NO_MIG_LIST
nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t device, unsigned int* count) {
  DEVICE_OR_RETURN(d, device);
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  if (strstr(d->name, "L40S")) return NVML_ERROR_NOT_SUPPORTED;
  *count = MAX_MIG;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t device, unsigned int index,
                                                 nvmlDevice_t* mig) {
  DEVICE_OR_RETURN(d, device);
  if (!mig || index >= MAX_MIG) return NVML_ERROR_INVALID_ARGUMENT;
  if (!d->mig) return NVML_ERROR_INVALID_ARGUMENT; /* MIG mode off */
  if (index >= d->mig_count) return NVML_ERROR_NOT_FOUND;
  *mig = (nvmlDevice_t)(size_t)(MIG_HANDLE_BASE + (size_t)(d - devices) * 256 + index);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t device, unsigned int* id) {
  nvmlReturn_t err;
  unsigned int m;
  struct stub_device* p = mig_of(device, &m, &err); /* only MIG handles have one */
  if (!p) return err;
  if (!id) return NVML_ERROR_INVALID_ARGUMENT;
  *id = p->mig_gi[m];
  return NVML_SUCCESS;
}
#endif
