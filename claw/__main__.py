from claw.cli import main

main(prog_name="claw")
