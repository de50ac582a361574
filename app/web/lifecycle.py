"""(placeholder, being written)"""

from flask import Blueprint

bp = Blueprint("lifecycle", __name__)
