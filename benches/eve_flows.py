"""What the agreement scripts share: the records of an EVE file, and the flow of a
record as they compare it — the unordered pair of endpoints (address in one spelling,
port), so the direction an engine reports and the way it writes an IPv6 address do not
matter."""
import ipaddress
import json


def records(path):
    """The records of EVE file `path`, skipping lines that are not JSON."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                yield json.loads(line)
            except ValueError:
                continue


def norm_ip(a):
    """One spelling per address: engines write IPv6 compressed or in full."""
    try:
        return ipaddress.ip_address(a).compressed
    except ValueError:
        return a


def endpoints(e):
    """(lower endpoint, higher endpoint) of record `e`."""
    a = (norm_ip(e.get("src_ip", "")), e.get("src_port", 0) or 0)
    b = (norm_ip(e.get("dest_ip", "")), e.get("dest_port", 0) or 0)
    return tuple(sorted([a, b]))
