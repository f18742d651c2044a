"""Lambda cost per 1,000 pages from measured seconds and the configured memory."""

from __future__ import annotations

# AWS Lambda x86 on-demand prices (us-east-1); written beside every figure they make.
PRICE_PER_GB_SECOND = 0.0000166667
PRICE_PER_MILLION_REQUESTS = 0.20


def cost_per_1000_pages(
    seconds_per_page: float, memory_mb: int, pages_per_request: float = 1.0
) -> dict[str, float | str]:
    gb = memory_mb / 1024
    compute = 1000 * seconds_per_page * gb * PRICE_PER_GB_SECOND
    requests = 1000 / pages_per_request * PRICE_PER_MILLION_REQUESTS / 1_000_000
    return {
        "usd_per_1000_pages": compute + requests,
        "compute_usd": compute,
        "requests_usd": requests,
        "seconds_per_page": seconds_per_page,
        "memory_mb": memory_mb,
        "prices": f"x86 ${PRICE_PER_GB_SECOND}/GB-s, ${PRICE_PER_MILLION_REQUESTS} per 1M requests, one request per page",
    }
