"""The Scrapy peer of the crawl benchmark: a CrawlSpider that follows links
under the given prefixes and extracts every page's title (Scrapy parses each
page with lxml to find links).

    scrapy runspider bench/scrapy_docs.py -a seeds=URL,URL -a prefixes=URL,URL -O items.jsonl
"""

import re

from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule


class DocsSpider(CrawlSpider):
    name = "docs"
    custom_settings = {
        "ROBOTSTXT_OBEY": False,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS": 32,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
        "COOKIES_ENABLED": False,
    }

    def __init__(self, seeds="", prefixes="", *args, **kwargs):
        self.start_urls = [s for s in seeds.split(",") if s]
        allow = [re.escape(p) for p in prefixes.split(",") if p]
        self.rules = (Rule(LinkExtractor(allow=allow), callback="parse_page", follow=True),)
        super().__init__(*args, **kwargs)

    def parse_start_url(self, response):
        return self.parse_page(response)

    def parse_page(self, response):
        yield {"url": response.url, "title": response.css("title::text").get()}
