"""(placeholder, being written)"""

from flask import Blueprint

bp = Blueprint("descriptor", __name__)
