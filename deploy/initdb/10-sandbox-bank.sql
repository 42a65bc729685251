-- The bank's sandbox systems live in their own database (bot/cluster/services.py creates the same).
CREATE DATABASE sandbox_bank;
