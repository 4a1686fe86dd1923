"""Fetching from the web: the fetcher and everything a request passes through.

``fetch`` holds the fetcher (``Fetcher``: one shared async client, every URL through the network
guard, bounded bodies, robots.txt, an on-disk cache) and ``fetch_options`` its frozen options;
``guard`` decides which URLs and addresses may be fetched and ``pinned`` is the httpx transport that
connects only to the addresses the guard checked; ``body`` reads a response body safely;
``http_cache`` is the on-disk HTTP cache; ``robots`` the robots.txt rules; ``urls`` the one spelling
per page that deduplication uses. This module imports nothing, so ``tools.web.urls`` (which search
uses) stays as light as it was.
"""
