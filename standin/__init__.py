"""A local stand-in for a Jira Cloud site with Service Management, checked against Atlassian's specs.

See standin/README.md. Tests use `JiraStandin` as a context manager; the demo runs `python -m standin`.
"""

from standin.seed import ADMIN, AGENT, CUSTOMER, CUSTOMER_2, User
from standin.server import Fault, InstallError, JiraStandin, RecordedRequest
from standin.state import JiraError
from standin.webhooks import Delivery

__all__ = ["ADMIN", "AGENT", "CUSTOMER", "CUSTOMER_2", "Delivery", "Fault", "InstallError", "JiraError",
           "JiraStandin", "RecordedRequest", "User"]
