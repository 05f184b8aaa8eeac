// SPDX-License-Identifier: GPL-2.0
/* bpfload.c: siplbd loads the balancer reusing pinned maps, pins it, attaches it by pinned links. */
#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon.h"
#include "log.h"
#include "netlink.h"
#include "siplb.skel.h"

/*
 * Layout under pin_dir (/sys/fs/bpf/siplb/<instance>):
 *   map_<name>      every map of include/siplb_maps.h
 *   prog_siplb_xdp  the program the links run
 *   link_<ifname>   one XDP bpf_link per interface
 * A link pinned in bpffs outlives siplbd: the data path keeps running while
 * siplbd restarts, and the next siplbd swaps the program in the link with
 * one bpf_link_update() (atomic: no packet sees no program).
 */

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX], *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static void pin_path(const struct siplbd *d, char *buf, size_t len,
		     const char *kind, const char *name)
{
	/* pin_dir is checked in main(); names are short */
	if (snprintf(buf, len, "%s/%s_%s", d->pin_dir, kind, name) >= (int)len)
		buf[len - 1] = 0;
}

/* Maglev slots for the configured VIPs: room to add VIPs by reload without a new map. */
static __u32 vip_slots_for(size_t n_vips)
{
	__u32 s = SD_MIN_VIP_SLOTS;

	while (s < n_vips)
		s *= 2;
	return s > SIPLB_MAX_VIPS ? SIPLB_MAX_VIPS : s;
}

/*
 * Reuse a pinned map when it can hold what this configuration needs.
 * Returns 1 reused, 0 not (created fresh at load), -errno on failure.
 */
static int reuse_pinned(struct siplbd *d, struct bpf_map *map, const char *name)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd, err;

	pin_path(d, path, sizeof(path), "map", name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		err = -errno;
		log_err("cannot open pinned map %s: %s", path, strerror(errno));
		return err;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map) ||
	    info.max_entries != bpf_map__max_entries(map)) {
		/* The old program keeps the old map until its link is switched. */
		log_warn("pinned map %s does not fit this configuration or program "
			 "(%u entries of %u bytes, want %u of %u): creating a new one%s", name,
			 info.max_entries, info.value_size, bpf_map__max_entries(map),
			 bpf_map__value_size(map),
			 strcmp(name, "affinity") ? "" : "; dialogs lose their affinity entries");
		close(fd);
		unlink(path);
		return 0;
	}
	err = bpf_map__reuse_fd(map, fd);
	close(fd);
	if (err) {
		log_err("cannot reuse pinned map %s: %s", path, strerror(-err));
		return err;
	}
	return 1;
}

int sd_bpf_load(struct siplbd *d, const struct siplb_cfg *cfg)
{
	struct bpf_map *map;
	char path[PATH_MAX];
	int err, reused = 0, i;
	__u32 slots;

	err = mkdir_p(d->pin_dir);
	if (err) {
		log_err("cannot create pin directory %s: %s (is bpffs mounted at %s?)",
			d->pin_dir, strerror(-err), d->pin_root);
		return err;
	}
	d->skel = siplb__open();
	if (!d->skel) {
		log_err("cannot open the BPF object: %s", strerror(errno));
		return -errno;
	}
	/* Sized by the configuration; a pinned maglev map of another size is kept if big enough. */
	slots = vip_slots_for(cfg->n_vips);
	d->vip_slots = slots;
	bpf_map__set_max_entries(d->skel->maps.maglev,
				 slots * SIPLB_MAGLEV_GENS * cfg->maglev_size);
	bpf_map__set_max_entries(d->skel->maps.affinity, cfg->aff_capacity);
	{
		/* A pinned maglev map with more slots than we would make: keep it. */
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		int fd;

		pin_path(d, path, sizeof(path), "map", "maglev");
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
			    info.max_entries % (SIPLB_MAGLEV_GENS * cfg->maglev_size) == 0 &&
			    info.max_entries / (SIPLB_MAGLEV_GENS * cfg->maglev_size) >= cfg->n_vips) {
				d->vip_slots = info.max_entries / (SIPLB_MAGLEV_GENS * cfg->maglev_size);
				bpf_map__set_max_entries(d->skel->maps.maglev, info.max_entries);
			}
			close(fd);
		}
	}

	for (i = 0; i < LB_NMAPS; i++) {
		map = bpf_object__find_map_by_name(d->skel->obj, lb_map_names[i]);
		if (!map)
			return -ENOENT;
		err = reuse_pinned(d, map, lb_map_names[i]);
		if (err < 0)
			return err;
		reused += err;
	}
	d->reused = reused > 0;

	err = siplb__load(d->skel);
	if (err) {
		log_err("the kernel refused the BPF program: %s", strerror(-err));
		return err;
	}
	err = lb_maps_from_object(d->skel->obj, &d->maps);
	if (err)
		return err;
	d->prog_fd = bpf_program__fd(d->skel->progs.siplb_xdp);
	/* Before this program runs: the index must agree with the hash, whatever
	 * a crash or a siplbd without it left there. */
	err = lb_vip_index_rebuild(&d->maps);
	if (err < 0) {
		log_err("cannot rebuild vip_index from vips: %s", strerror(-err));
		return err;
	}
	if (err)
		log_warn("vip_index: %d VIP%s found no free slot: the slower hash lookup serves them",
			 err, err == 1 ? "" : "s");

	for (i = 0; i < LB_NMAPS; i++) {
		map = bpf_object__find_map_by_name(d->skel->obj, lb_map_names[i]);
		pin_path(d, path, sizeof(path), "map", lb_map_names[i]);
		if (access(path, F_OK) == 0)
			continue;	/* reused */
		err = bpf_map__pin(map, path);
		if (err) {
			log_err("cannot pin map at %s: %s", path, strerror(-err));
			return err;
		}
	}
	/* The program pin names what runs now; replaced on every start. */
	pin_path(d, path, sizeof(path), "prog", "siplb_xdp");
	unlink(path);
	if (bpf_obj_pin(d->prog_fd, path)) {
		err = -errno;
		log_err("cannot pin the program at %s: %s", path, strerror(errno));
		return err;
	}
	log_info("BPF program loaded, maps %s under %s", d->reused ? "reused" : "created",
		 d->pin_dir);
	return 0;
}

/* The interface a pinned XDP link is attached to; 0 when its device is gone. */
static int link_ifindex(int fd)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_LINK_TYPE_XDP)
		return -EINVAL;
	return (int)info.xdp.ifindex;
}

int sd_iface_attach(struct siplbd *d, struct sd_iface *ifc)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	char path[PATH_MAX];
	int fd, idx, err;

	ifc->ifindex = (int)if_nametoindex(ifc->name);
	if (!ifc->ifindex) {
		log_warn("interface %s does not exist (yet): XDP attaches when it appears",
			 ifc->name);
		return -ENODEV;
	}
	/* the state link events are compared with (they log only changes) */
	if (d->nl) {
		struct nl_link l;

		if (!nl_link_get(d->nl, ifc->ifindex, NULL, &l))
			ifc->link_up = l.running;
	}
	pin_path(d, path, sizeof(path), "link", ifc->name);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		idx = link_ifindex(fd);
		if (idx == ifc->ifindex) {
			/* A restart: swap the program inside the running link. */
			if (bpf_link_update(fd, d->prog_fd, NULL)) {
				err = -errno;
				log_err("cannot update the XDP link on %s: %s", ifc->name,
					strerror(errno));
				close(fd);
				return err;
			}
			if (ifc->link_fd >= 0 && ifc->link_fd != fd)
				close(ifc->link_fd);
			ifc->link_fd = fd;
			log_info("XDP on %s (ifindex %d): program replaced in the pinned link",
				 ifc->name, ifc->ifindex);
			return 0;
		}
		/* Its device went away (or was recreated): that link is dead. */
		log_info("pinned link for %s belongs to ifindex %d, not %d: replacing it",
			 ifc->name, idx, ifc->ifindex);
		close(fd);
		unlink(path);
	}
	opts.flags = ifc->mode == SIPLB_ATTACH_GENERIC ? XDP_FLAGS_SKB_MODE :
							 XDP_FLAGS_DRV_MODE;
	fd = bpf_link_create(d->prog_fd, ifc->ifindex, BPF_XDP, &opts);
	if (fd < 0) {
		err = -errno;
		log_err("cannot attach XDP (%s) to %s: %s%s", ifc->mode == SIPLB_ATTACH_GENERIC ?
			"generic" : "native", ifc->name, strerror(errno),
			errno == EBUSY || errno == EEXIST ?
			" (another XDP program is attached; remove it first)" :
			errno == EOPNOTSUPP ? " (the driver has no native XDP: use attach: generic)" : "");
		return err;
	}
	if (bpf_obj_pin(fd, path)) {
		err = -errno;
		log_err("cannot pin the XDP link at %s: %s", path, strerror(errno));
		close(fd);
		return err;
	}
	if (ifc->link_fd >= 0)
		close(ifc->link_fd);
	ifc->link_fd = fd;
	log_info("XDP attached to %s (ifindex %d, %s)", ifc->name, ifc->ifindex,
		 ifc->mode == SIPLB_ATTACH_GENERIC ? "generic" : "native");
	return 0;
}

/* The interface went away: its link is dead; forget it so a new one can be made. */
void sd_iface_forget(struct siplbd *d, struct sd_iface *ifc)
{
	char path[PATH_MAX];

	if (ifc->link_fd >= 0)
		close(ifc->link_fd);
	ifc->link_fd = -1;
	ifc->ifindex = 0;
	pin_path(d, path, sizeof(path), "link", ifc->name);
	unlink(path);
}

int sd_detach_all(const char *pin_dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0, err = 0;
	DIR *dir;

	dir = opendir(pin_dir);
	if (!dir) {
		if (errno == ENOENT) {
			log_info("nothing pinned at %s: nothing to detach", pin_dir);
			return 0;
		}
		log_err("cannot read %s: %s", pin_dir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (!strncmp(de->d_name, "link_", 5)) {
			int fd = bpf_obj_get(path);

			/* Detach now: unpinning alone would leave it to the last fd. */
			if (fd >= 0) {
				if (bpf_link_detach(fd) && errno != ENOLINK)
					log_warn("detach %s: %s", path, strerror(errno));
				close(fd);
			}
			log_info("XDP detached from %s", de->d_name + 5);
		}
		if (unlink(path)) {
			log_err("cannot remove %s: %s", path, strerror(errno));
			err = -errno;
		}
		n++;
	}
	closedir(dir);
	if (rmdir(pin_dir) && errno != ENOENT) {
		log_err("cannot remove %s: %s", pin_dir, strerror(errno));
		err = err ?: -errno;
	}
	log_info("removed %d pins under %s", n, pin_dir);
	return err;
}

void sd_bpf_close(struct siplbd *d)
{
	size_t i;

	/* Closing our fds leaves the pinned links attached: the data path runs on. */
	for (i = 0; i < d->n_ifaces; i++)
		if (d->ifaces[i].link_fd >= 0) {
			close(d->ifaces[i].link_fd);
			d->ifaces[i].link_fd = -1;
		}
	siplb__destroy(d->skel);
	d->skel = NULL;
}

/* Interfaces of the running configuration: attach the new ones, detach the ones gone. */
int sd_ifaces_sync(struct siplbd *d)
{
	struct sd_iface *nifs;
	size_t i, j;
	int err = 0;

	nifs = calloc(d->cfg.n_ifaces ? d->cfg.n_ifaces : 1, sizeof(*nifs));
	if (!nifs)
		return -ENOMEM;
	for (i = 0; i < d->cfg.n_ifaces; i++) {
		snprintf(nifs[i].name, sizeof(nifs[i].name), "%s", d->cfg.ifaces[i].name);
		nifs[i].mode = d->cfg.ifaces[i].attach;
		nifs[i].link_fd = -1;
		for (j = 0; j < d->n_ifaces; j++)
			if (!strcmp(d->ifaces[j].name, nifs[i].name) &&
			    d->ifaces[j].mode == nifs[i].mode) {
				nifs[i] = d->ifaces[j];
				d->ifaces[j].link_fd = -1;	/* moved */
				d->ifaces[j].name[0] = 0;
			}
	}
	for (j = 0; j < d->n_ifaces; j++) {
		char path[PATH_MAX];

		if (!d->ifaces[j].name[0])
			continue;
		/* Not in the new configuration (or in another mode): detach. */
		pin_path(d, path, sizeof(path), "link", d->ifaces[j].name);
		if (d->ifaces[j].link_fd >= 0) {
			bpf_link_detach(d->ifaces[j].link_fd);
			close(d->ifaces[j].link_fd);
		}
		unlink(path);
		log_info("XDP detached from %s", d->ifaces[j].name);
	}
	free(d->ifaces);
	d->ifaces = nifs;
	d->n_ifaces = d->cfg.n_ifaces;
	for (i = 0; i < d->n_ifaces; i++) {
		if (nifs[i].link_fd >= 0 && nifs[i].ifindex)
			continue;
		if (sd_iface_attach(d, &nifs[i]) && nifs[i].ifindex)
			err = -EIO;
	}
	return err;
}
