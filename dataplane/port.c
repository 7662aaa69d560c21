/* SPDX-License-Identifier: BSD-3-Clause
 * Port set-up for any PMD: the EAL has already probed the devices named in
 * the config (vdevs via --vdev, NICs via -a); here each gets one rx/tx queue
 * pair per worker, checksum offloads where the PMD has them, MTU and MAC.
 */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_ether.h>

#include "dataplane.h"
#include "eal_args.h"
#include "log.h"

RTE_LOG_REGISTER(wg_port_logtype, wg.port, INFO);
#define PORT_LOG(l, ...) WG_LOG(wg_port_logtype, l, "port", __VA_ARGS__)

static uint32_t
netmask(uint8_t prefix)
{
	return prefix == 0 ? 0 : rte_cpu_to_be_32(~0u << (32 - prefix));
}

/* net_tap gives the kernel's end of the TAP the PMD's own MAC, so every
 * frame from the kernel would carry our address as its source (and be
 * dropped as spoofed). Give the kernel end a MAC of its own, as on a wire. */
static int
tap_split_mac(const struct wg_port *p, uint32_t if_index, const struct rte_ether_addr *ours)
{
	struct ifreq ifr;
	char ifname[IF_NAMESIZE];
	int fd, ret = 0;

	if (if_index == 0 || if_indextoname(if_index, ifname) == NULL)
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		ret = -errno;
		goto out;
	}
	if (memcmp(ifr.ifr_hwaddr.sa_data, ours->addr_bytes, RTE_ETHER_ADDR_LEN) != 0)
		goto out;   /* already distinct (set by the operator) */
	/* locally administered, unicast, and one bit away from ours */
	ifr.ifr_hwaddr.sa_data[0] = (char)((ours->addr_bytes[0] | 0x02) & ~0x01);
	ifr.ifr_hwaddr.sa_data[5] = (char)(ours->addr_bytes[5] ^ 0x01);
	if (ioctl(fd, SIOCSIFHWADDR, &ifr) < 0) {
		ret = -errno;
		goto out;
	}
	PORT_LOG(INFO, "%s: kernel end %s of the TAP set to %02x:%02x:%02x:%02x:%02x:%02x",
		 p->name, ifname, (uint8_t)ifr.ifr_hwaddr.sa_data[0],
		 (uint8_t)ifr.ifr_hwaddr.sa_data[1], (uint8_t)ifr.ifr_hwaddr.sa_data[2],
		 (uint8_t)ifr.ifr_hwaddr.sa_data[3], (uint8_t)ifr.ifr_hwaddr.sa_data[4],
		 (uint8_t)ifr.ifr_hwaddr.sa_data[5]);
out:
	close(fd);
	return ret;
}

static int
port_setup(struct wg_dataplane *dp, const struct wg_conf_port *pc, struct wg_port *p)
{
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	uint16_t nb_rxd = pc->rx_desc, nb_txd = pc->tx_desc;
	uint16_t q, pid;
	int ret;

	wg_dev_port_name(pc->dev, p->dev_name, sizeof(p->dev_name));
	ret = rte_eth_dev_get_port_by_name(p->dev_name, &pid);
	if (ret < 0) {
		PORT_LOG(ERR, "%s: device %s was not probed (check 'dev' and the driver)",
			 pc->name, p->dev_name);
		return -ENODEV;
	}
	p->port_id = pid;
	snprintf(p->name, sizeof(p->name), "%s", pc->name);

	ret = rte_eth_dev_info_get(pid, &info);
	if (ret < 0)
		return ret;
	snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name);
	if (info.max_rx_queues < dp->n_workers || info.max_tx_queues < dp->n_workers) {
		PORT_LOG(ERR, "%s: %s offers %u rx / %u tx queues, %u workers need one each",
			 pc->name, info.driver_name, info.max_rx_queues, info.max_tx_queues,
			 dp->n_workers);
		return -EINVAL;
	}
	p->n_queues = (uint16_t)dp->n_workers;

	if (pc->csum_offload) {
		if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
			conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
			p->iface.flags |= WG_IFACE_F_RX_IP_CSUM;
		}
		if ((info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) &&
		    (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_UDP_CKSUM)) {
			conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
						RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
			p->iface.flags |= WG_IFACE_F_RX_L4_CSUM;
		}
		if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
			conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
			p->iface.flags |= WG_IFACE_F_TX_IP_CSUM;
		}
		if ((info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) &&
		    (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM)) {
			conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
						RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
			p->iface.flags |= WG_IFACE_F_TX_L4_CSUM;
		}
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	if (dp->n_workers > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads &
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	}

	ret = rte_eth_dev_configure(pid, p->n_queues, p->n_queues, &conf);
	if (ret < 0) {
		PORT_LOG(ERR, "%s: configure: %s", pc->name, strerror(-ret));
		return ret;
	}
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rxd, &nb_txd);
	if (ret < 0)
		return ret;
	for (q = 0; q < p->n_queues; q++) {
		struct rte_eth_rxconf rxc = info.default_rxconf;
		struct rte_eth_txconf txc = info.default_txconf;

		rxc.offloads = conf.rxmode.offloads;
		txc.offloads = conf.txmode.offloads;
		ret = rte_eth_rx_queue_setup(pid, q, nb_rxd, rte_eth_dev_socket_id(pid),
					     &rxc, dp->pkt_pool);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(pid, q, nb_txd,
						     rte_eth_dev_socket_id(pid), &txc);
		if (ret < 0) {
			PORT_LOG(ERR, "%s: queue %u set-up: %s", pc->name, q, strerror(-ret));
			return ret;
		}
	}

	if (pc->mac_set) {
		memcpy(mac.addr_bytes, pc->mac, RTE_ETHER_ADDR_LEN);
		ret = rte_eth_dev_default_mac_addr_set(pid, &mac);
		if (ret < 0) {
			PORT_LOG(ERR, "%s: set MAC: %s", pc->name, strerror(-ret));
			return ret;
		}
	}
	ret = rte_eth_macaddr_get(pid, &mac);
	if (ret < 0)
		return ret;
	ret = rte_eth_dev_set_mtu(pid, pc->mtu);
	if (ret < 0 && ret != -ENOTSUP)
		PORT_LOG(WARNING, "%s: MTU %u: %s", pc->name, pc->mtu, strerror(-ret));

	ret = rte_eth_dev_start(pid);
	if (ret < 0) {
		PORT_LOG(ERR, "%s: start: %s", pc->name, strerror(-ret));
		return ret;
	}

	if (strcmp(info.driver_name, "net_tap") == 0) {
		ret = tap_split_mac(p, info.if_index, &mac);
		if (ret < 0)
			PORT_LOG(WARNING, "%s: cannot give the TAP's kernel end its own MAC (%s): "
				 "frames from it will be dropped as eth_bad_src",
				 pc->name, strerror(-ret));
	}

	p->iface.port_id = pid;
	p->iface.mtu = pc->mtu;
	memcpy(p->iface.mac, mac.addr_bytes, sizeof(p->iface.mac));
	p->iface.ipv4 = pc->ipv4;
	p->iface.netmask = netmask(pc->prefix_len);
	p->iface.gateway = pc->gateway;
	PORT_LOG(INFO, "%s: port %u %s (%s) " RTE_ETHER_ADDR_PRT_FMT " %u.%u.%u.%u/%u, %u queue(s), offloads%s%s%s%s",
		 p->name, pid, p->dev_name, p->driver, RTE_ETHER_ADDR_BYTES(&mac),
		 ((uint8_t *)&pc->ipv4)[0], ((uint8_t *)&pc->ipv4)[1],
		 ((uint8_t *)&pc->ipv4)[2], ((uint8_t *)&pc->ipv4)[3], pc->prefix_len,
		 p->n_queues,
		 (p->iface.flags & WG_IFACE_F_RX_IP_CSUM) ? " rx-ip" : "",
		 (p->iface.flags & WG_IFACE_F_RX_L4_CSUM) ? " rx-l4" : "",
		 (p->iface.flags & WG_IFACE_F_TX_IP_CSUM) ? " tx-ip" : "",
		 (p->iface.flags & WG_IFACE_F_TX_L4_CSUM) ? " tx-l4" : "");
	return 0;
}

int
wg_ports_init(struct wg_dataplane *dp)
{
	unsigned int i;
	int ret;

	for (i = 0; i < dp->conf->n_ports; i++) {
		ret = port_setup(dp, &dp->conf->ports[i], &dp->ports[i]);
		if (ret < 0)
			return ret;
		dp->n_ports++;
	}
	return 0;
}

void
wg_ports_close(struct wg_dataplane *dp)
{
	unsigned int i;

	for (i = 0; i < dp->n_ports; i++) {
		rte_eth_dev_stop(dp->ports[i].port_id);
		rte_eth_dev_close(dp->ports[i].port_id);
	}
	dp->n_ports = 0;
}
