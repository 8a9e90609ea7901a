"""Locust's entry point: `locust -f loadtests/locustfile.py --host REST_URL --ws-url WS_URL`
(or `crudops load`, which finds the URLs and summarizes 202→notification)."""

from loadtests.users import CrudUser

__all__ = ["CrudUser"]
