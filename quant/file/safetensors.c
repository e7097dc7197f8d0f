// safetensors reader (safetensors.h).
#include "quant/file/safetensors.h"
#include "quant/file/file_read.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct st_file {
    char path[1024];
    void *map;
    uint64_t size;
};

#define MAX_HEADER ((uint64_t)100 << 20)  // safetensors caps the JSON header at 100 MB

static int cmp_offsets(const void *a, const void *b) {
    const uint64_t *x = *(const uint64_t *const *)a, *y = *(const uint64_t *const *)b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

static enum kiln_status parse_tensor(const char *path, const cJSON *item, const uint8_t *data,
                                     uint64_t data_size, struct kiln_st_tensor *t, uint64_t off[2]) {
    snprintf(t->name, sizeof t->name, "%s", item->string);
    if (strlen(item->string) >= sizeof t->name)
        return kiln_fail(KILN_E_FORMAT, "%s: tensor name longer than %zu bytes", path, sizeof t->name - 1);
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!cJSON_IsString(dtype) || !cJSON_IsArray(shape) || !cJSON_IsArray(offsets) ||
        cJSON_GetArraySize(offsets) != 2)
        return kiln_fail(KILN_E_FORMAT, "%s: tensor %s lacks dtype, shape or data_offsets", path, t->name);
    const char *d = dtype->valuestring;
    size_t esize;
    if (!strcmp(d, "F32")) { t->type = KILN_TYPE_F32; esize = 4; }
    else if (!strcmp(d, "F16")) { t->type = KILN_TYPE_F16; esize = 2; }
    else if (!strcmp(d, "BF16")) { t->type = KILN_TYPE_BF16; esize = 2; }
    else
        return kiln_fail(KILN_E_UNSUPPORTED, "%s: tensor %s has dtype %s (kiln reads F32, F16, BF16)", path, t->name, d);
    t->ndim = cJSON_GetArraySize(shape);
    if (t->ndim > 8)
        return kiln_fail(KILN_E_FORMAT, "%s: tensor %s has %d dims", path, t->name, t->ndim);
    uint64_t elems = 1;
    for (int i = 0; i < t->ndim; i++) {
        const cJSON *s = cJSON_GetArrayItem(shape, i);
        if (!cJSON_IsNumber(s) || s->valuedouble < 0 || s->valuedouble > 9e15 || s->valuedouble != (double)(int64_t)s->valuedouble)
            return kiln_fail(KILN_E_FORMAT, "%s: tensor %s has a bad shape", path, t->name);
        t->shape[i] = (int64_t)s->valuedouble;
        if (t->shape[i] && elems > UINT64_MAX / 8 / (uint64_t)t->shape[i])
            return kiln_fail(KILN_E_FORMAT, "%s: tensor %s is absurdly large", path, t->name);
        elems *= (uint64_t)t->shape[i];
    }
    for (int i = 0; i < 2; i++) {
        const cJSON *o = cJSON_GetArrayItem(offsets, i);
        if (!cJSON_IsNumber(o) || o->valuedouble < 0 || o->valuedouble > 1.8e19)
            return kiln_fail(KILN_E_FORMAT, "%s: tensor %s has bad data_offsets", path, t->name);
        off[i] = (uint64_t)o->valuedouble;
    }
    if (off[1] < off[0] || off[1] > data_size)
        return kiln_fail(KILN_E_FORMAT, "%s: tensor %s's data [%" PRIu64 ", %" PRIu64 ") lies outside the "
                         "%" PRIu64 "-byte data area", path, t->name, off[0], off[1], data_size);
    if (off[1] - off[0] != elems * esize)
        return kiln_fail(KILN_E_FORMAT, "%s: tensor %s holds %" PRIu64 " bytes but its shape needs %" PRIu64,
                         path, t->name, off[1] - off[0], elems * esize);
    t->data = data + off[0];
    t->nbytes = off[1] - off[0];
    return KILN_OK;
}

static enum kiln_status open_file(struct kiln_st_model *m, const char *path) {
    struct st_file *grown = realloc(m->files, sizeof *grown * (size_t)(m->n_files + 1));
    if (!grown)
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    m->files = grown;
    struct st_file *f = &m->files[m->n_files];
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    const int fd = open(path, O_RDONLY);
    if (fd < 0)
        return kiln_fail(KILN_E_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 8) {
        close(fd);
        return kiln_fail(KILN_E_FORMAT, "%s: not a safetensors file (too short)", path);
    }
    f->size = (uint64_t)st.st_size;
    f->map = mmap(NULL, (size_t)f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (f->map == MAP_FAILED) {
        f->map = NULL;
        return kiln_fail(KILN_E_IO, "%s: cannot map: %s", path, strerror(errno));
    }
    m->n_files++;
    const uint8_t *base = f->map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | base[i];
    if (hlen > MAX_HEADER || hlen > f->size - 8)
        return kiln_fail(KILN_E_FORMAT, "%s: header length %" PRIu64 " runs past the file (%" PRIu64 " bytes)",
                         path, hlen, f->size);
    cJSON *h = cJSON_ParseWithLength((const char *)base + 8, (size_t)hlen);
    if (!cJSON_IsObject(h)) {
        cJSON_Delete(h);
        return kiln_fail(KILN_E_FORMAT, "%s: the header is not a JSON object", path);
    }
    const uint8_t *data = base + 8 + hlen;
    const uint64_t data_size = f->size - 8 - hlen;
    const int n = cJSON_GetArraySize(h);
    struct kiln_st_tensor *ts = realloc(m->tensors, sizeof *ts * (size_t)(m->n_tensors + n + 1));
    uint64_t (*offs)[2] = calloc((size_t)n + 1, sizeof *offs);
    const uint64_t **order = calloc((size_t)n + 1, sizeof *order);
    enum kiln_status s = ts && offs && order ? KILN_OK : kiln_fail(KILN_E_NOMEM, "out of memory");
    if (ts)
        m->tensors = ts;
    int k = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, h) {
        if (s != KILN_OK)
            break;
        if (!strcmp(item->string, "__metadata__"))
            continue;
        struct kiln_st_tensor *t = &m->tensors[m->n_tensors];
        memset(t, 0, sizeof *t);
        s = parse_tensor(path, item, data, data_size, t, offs[k]);
        if (s == KILN_OK && kiln_st_find(m, t->name))
            s = kiln_fail(KILN_E_FORMAT, "%s: tensor %s appears twice", path, t->name);
        if (s == KILN_OK) {
            order[k] = offs[k];
            k++;
            m->n_tensors++;
        }
    }
    if (s == KILN_OK) {  // no two tensors may share bytes
        qsort(order, (size_t)k, sizeof *order, cmp_offsets);
        for (int i = 1; i < k && s == KILN_OK; i++)
            if (order[i][0] < order[i - 1][1])
                s = kiln_fail(KILN_E_FORMAT, "%s: two tensors' data overlap at byte %" PRIu64, path, order[i][0]);
    }
    free(offs);
    free(order);
    cJSON_Delete(h);
    return s;
}

static enum kiln_status open_index(struct kiln_st_model *m, const char *dir, const char *index) {
    cJSON *j;
    KILN_TRY(kiln_load_json_file(index, (size_t)64 << 20, &j));
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(j, "weight_map");
    enum kiln_status s = cJSON_IsObject(map) ? KILN_OK
                                              : kiln_fail(KILN_E_FORMAT, "%s: no \"weight_map\" object", index);
    const cJSON *e;
    cJSON_ArrayForEach(e, map) {
        if (s != KILN_OK)
            break;
        if (!cJSON_IsString(e) || strchr(e->valuestring, '/')) {
            s = kiln_fail(KILN_E_FORMAT, "%s: bad shard name for %s", index, e->string);
            break;
        }
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->valuestring);
        bool seen = false;
        for (int i = 0; i < m->n_files; i++)
            seen |= !strcmp(m->files[i].path, path);
        if (!seen)
            s = open_file(m, path);
    }
    for (const cJSON *x = map ? map->child : NULL; s == KILN_OK && x; x = x->next)
        if (!kiln_st_find(m, x->string))
            s = kiln_fail(KILN_E_FORMAT, "%s: %s is listed but no shard holds it", index, x->string);
    cJSON_Delete(j);
    return s;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

enum kiln_status kiln_st_open(const char *path, struct kiln_st_model *m) {
    memset(m, 0, sizeof *m);
    struct stat st;
    if (stat(path, &st) != 0)
        return kiln_fail(KILN_E_IO, "%s: %s", path, strerror(errno));
    enum kiln_status s;
    if (!S_ISDIR(st.st_mode)) {
        s = open_file(m, path);
    } else {
        char index[1024];
        snprintf(index, sizeof index, "%s/model.safetensors.index.json", path);
        if (access(index, R_OK) == 0) {
            s = open_index(m, path, index);
        } else {
            DIR *d = opendir(path);
            char *names[256];
            int n = 0;
            for (struct dirent *e; d && (e = readdir(d)) && n < 256;) {
                const size_t len = strlen(e->d_name);
                if (len > 12 && !strcmp(e->d_name + len - 12, ".safetensors"))
                    names[n++] = strdup(e->d_name);
            }
            if (d)
                closedir(d);
            qsort(names, (size_t)n, sizeof *names, cmp_names);
            s = n ? KILN_OK : kiln_fail(KILN_E_IO, "%s: no *.safetensors files", path);
            for (int i = 0; i < n; i++) {
                char file[1024];
                snprintf(file, sizeof file, "%s/%s", path, names[i]);
                if (s == KILN_OK)
                    s = open_file(m, file);
                free(names[i]);
            }
        }
    }
    if (s != KILN_OK)
        kiln_st_close(m);
    return s;
}

void kiln_st_close(struct kiln_st_model *m) {
    for (int i = 0; i < m->n_files; i++)
        if (m->files[i].map)
            munmap(m->files[i].map, (size_t)m->files[i].size);
    free(m->files);
    free(m->tensors);
    memset(m, 0, sizeof *m);
}

const struct kiln_st_tensor *kiln_st_find(const struct kiln_st_model *m, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name))
            return &m->tensors[i];
    return NULL;
}
